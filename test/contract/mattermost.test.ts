import { after, before, describe } from 'node:test';
import { MattermostAdapter } from '../../platforms/mattermost/adapter.js';
import { ChannelCursors } from '../../platforms/mattermost/cursors.js';
import { ChannelDirectory } from '../../platforms/mattermost/directory.js';
import { MattermostInbound } from '../../platforms/mattermost/inbound.js';
import { BotRoster } from '../../platforms/mattermost/roster.js';
import { createLogger } from '../../core/log.js';
import { startFakeMattermost, type FakeMattermost } from '../fakes/mattermost/index.js';
import { sleep, until } from './durable-ingress.js';
import { inboundContract, type InboundContext } from './inbound-suite.js';
import { outboundContract, type ShownMessage } from './outbound-suite.js';

/**
 * Mattermost against its fake (REST v4 and the WebSocket), through the real @mattermost/client:
 * one bot per persona (athena, apollo), as mattermost/module.ts wires them.
 */
const silent = createLogger({ level: 'silent' });

async function world() {
  const fake = await startFakeMattermost();
  const athena = fake.addBot('athena-bot');
  const apollo = fake.addBot('apollo');
  fake.addHuman('jeff');
  fake.addChannel('town-square', { members: ['athena-bot', 'apollo', 'jeff'] });
  return {
    fake,
    personas: [
      { id: 'athena', token: athena.token },
      { id: 'apollo', token: apollo.token },
    ],
  };
}

function wire(w: Awaited<ReturnType<typeof world>>, ctx: Pick<InboundContext, 'ingress' | 'logger'> & Partial<InboundContext>, opts: { cards?: () => boolean } = {}) {
  const roster = new BotRoster(w.fake.url, w.personas, ctx.logger);
  const directory = new ChannelDirectory();
  const cursors = new ChannelCursors({ logger: ctx.logger });
  const inbound = new MattermostInbound({ roster, cursors, directory, ingress: ctx.ingress, logger: ctx.logger, metrics: ctx.metrics, startedAt: Date.now(), retryCatchUpMs: 300 });
  const adapter = new MattermostAdapter({
    baseUrl: w.fake.url,
    roster,
    directory,
    inbound,
    logger: ctx.logger,
    pingIntervalMs: 1000,
    actions: () => ((opts.cards?.() ?? true) ? { url: 'http://127.0.0.1:9/webhooks/mattermost/actions', secret: 'contract-secret' } : null),
    personaName: (id) => id,
  });
  return { adapter, cursors, inbound };
}

type Attachment = { actions?: Array<{ id: string; integration?: { context?: { approval?: string } } }> };

const shown = (fake: FakeMattermost, rootId: string): ShownMessage[] =>
  fake
    .thread(rootId)
    .slice(1)
    .map((p) => ({
      id: p.id,
      text: p.message,
      buttons: ((p.props.attachments ?? []) as Attachment[]).flatMap((a) => (a.actions ?? []).map((b) => `${b.id} ${b.integration?.context?.approval}`)),
    }));

outboundContract(
  'mattermost',
  {
    // Mattermost answers a repeated pending_post_id with the first post (for 30 seconds): a restarted adapter posts once.
    postOnceAfterRestart: true,
    resumeAfterFailure: true,
    edit: true,
    buttons: true,
    cardFallback: true,
    split: { limit: 16383 },
    retryAfter: true,
  },
  async () => {
    const w = await world();
    let cards = true;
    const ingress = async () => ({ id: '', accepted: false });
    const adapter = () => {
      const { adapter: a } = wire(
        w,
        { ingress, logger: silent },
        {
          cards: () => {
            const now = cards;
            cards = true;
            return now;
          },
        },
      );
      return a;
    };
    const first = adapter();
    await first.start();
    const root = w.fake.post({ user: 'jeff', channel: 'town-square', message: 'release plan?' });
    return {
      platform: {
        adapter: first,
        threadId: first.encodeThreadId({ channelId: root.channel_id, rootId: root.id }),
        messages: async () => shown(w.fake, root.id),
        restarted: async () => {
          const a = adapter();
          await a.start();
          return a;
        },
        // Mattermost's 429 carries Retry-After: 1.
        rateLimitNext: () => w.fake.failNextPosts(1, 429),
        // Buttons need a URL Mattermost can call back; without one the card is posted as its text.
        refuseNextCard: () => {
          cards = false;
        },
        failNextPart: (index) => w.fake.failNextPosts(1, 500, index),
      },
      close: () => w.fake.close(),
    };
  },
);

describe('mattermost inbound', () => {
  let w: Awaited<ReturnType<typeof world>>;
  before(async () => {
    w = await world();
  });
  after(async () => {
    await w.fake.close();
  });

  inboundContract('mattermost', { redelivery: 'platform', acknowledgement: true }, async (ctx) => {
    const { adapter, cursors, inbound } = wire(w, ctx);
    await adapter.start();
    adapter.listen();
    await until(() => w.fake.sockets('athena-bot') === 1 && w.fake.sockets('apollo') === 1, 'both sockets');
    // The first catch-ups are done: what is read again from here on is the platform redelivering.
    await sleep(200);
    await inbound.idle();
    const posts = new Map<string, { channel: string; at: number }>();
    return {
      async say(text) {
        const post = w.fake.post({ user: 'jeff', channel: 'town-square', message: text });
        posts.set(`mattermost:${post.id}`, { channel: post.channel_id, at: post.create_at });
        return { envelopeId: `mattermost:${post.id}` };
      },
      // The read cursor is the acknowledgement: it moves past a post once the post is stored.
      acked: (said) => (cursors.get(posts.get(said.envelopeId)!.channel) ?? 0) >= posts.get(said.envelopeId)!.at,
      // Mattermost delivers again by being read again from the cursor: on its own for a post not
      // stored (the inbound's re-read), and on a reconnect's catch-up for one that was.
      async redeliver(said) {
        const { channel, at } = posts.get(said.envelopeId)!;
        if ((cursors.get(channel) ?? 0) >= at) w.fake.dropSockets();
      },
      stop: () => adapter.stop(),
    };
  });
});
