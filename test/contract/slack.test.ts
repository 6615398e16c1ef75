import { after, before, describe } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { SlackAdapter } from '../../platforms/slack/adapter.js';
import { SlackApi } from '../../platforms/slack/api.js';
import { SlackInbound } from '../../platforms/slack/inbound.js';
import { registerSlackRoutes } from '../../platforms/slack/routes.js';
import { createLogger } from '../../core/log.js';
import { startFakeSlack, type FakeSlack, type FakeSlackApp } from '../fakes/slack/index.js';
import type { Delivery } from '../fakes/slack/server.js';
import { inboundContract, type InboundContext, type InboundSession } from './inbound-suite.js';
import { outboundContract, type ShownMessage } from './outbound-suite.js';

/**
 * Slack against its fake (Web API, Socket Mode, signed HTTP events), through the real
 * @slack/bolt and @slack/web-api: one app per persona (athena is the voice, apollo), as
 * slack/module.ts builds them. Inbound runs in both modes.
 */
const silent = createLogger({ level: 'silent' });
const SIGNING_SECRET = 'contract-slack-signing-secret';

async function world() {
  const slack = await startFakeSlack({ echoBotMessages: false });
  const athena = slack.addApp('athena');
  const apollo = slack.addApp('apollo');
  slack.addUser({ id: 'U0JEFF', name: 'jeff' });
  const apis = new Map([
    ['athena', new SlackApi({ persona: 'athena', botToken: athena.botToken, apiUrl: slack.apiUrl, logger: silent })],
    ['apollo', new SlackApi({ persona: 'apollo', botToken: apollo.botToken, apiUrl: slack.apiUrl, logger: silent })],
  ]);
  const adapter = () => new SlackAdapter({ apis, voice: 'athena', displayName: (id) => id[0]!.toUpperCase() + id.slice(1), logger: silent });
  return { slack, athena, apollo, apis, adapter };
}

const shown = (slack: FakeSlack, channel: string, threadTs: string): ShownMessage[] =>
  slack.messages
    .filter((m) => m.channel === channel && m.threadTs === threadTs && m.botToken)
    .map((m) => ({
      id: m.ts,
      text: m.text,
      buttons: (m.blocks ?? [])
        .filter((b) => b.type === 'actions')
        .flatMap((b) => (b.elements as Array<{ action_id: string; value: string }>).map((e) => `${e.action_id.replace(/^pantheon_/, '')} ${e.value}`)),
    }));

outboundContract(
  'slack',
  {
    postOnceAfterRestart: { missing: 'chat.postMessage takes no idempotency key: the adapter remembers posted keys in memory, so a post repeated after a restart is posted again' },
    resumeAfterFailure: true,
    edit: true,
    buttons: true,
    cardFallback: true,
    split: { limit: 3900 },
    retryAfter: true,
  },
  async () => {
    const w = await world();
    return {
      platform: {
        adapter: w.adapter(),
        threadId: 'slack:T0PANTHEON:C1:100.000001',
        messages: async () => shown(w.slack, 'C1', '100.000001'),
        restarted: async () => w.adapter(),
        rateLimitNext: (seconds) => w.slack.rateLimit('chat.postMessage', { retryAfterSec: seconds }),
        refuseNextCard: () => w.slack.refuseBlocksNext(),
        failNextPart: (index) => w.slack.failAfter('chat.postMessage', { after: index, error: 'fatal_error' }),
      },
      close: () => w.slack.close(),
    };
  },
);

/** A person @mentions athena in C2; `acked` follows the latest delivery of that event. */
/** Message timestamps, unique across sessions (the ts is the message's id in its channel). */
let said = 0;

function session(slack: FakeSlack, app: FakeSlackApp, inbound: SlackInbound, stop: () => Promise<void>): InboundSession {
  const deliveries = new Map<string, { event: Record<string, unknown>; latest: { done: boolean; delivery?: Delivery } }>();
  const send = (id: string, retryNum?: number) => {
    const entry = deliveries.get(id)!;
    const latest: { done: boolean; delivery?: Delivery } = { done: false };
    entry.latest = latest;
    // A delivery cut short by the session stopping is simply not acknowledged.
    void slack
      .sendEvent(app, entry.event as never, { retryNum, ackTimeoutMs: 2500 })
      .then(
        (d) => {
          latest.delivery = d;
        },
        () => {},
      )
      .finally(() => {
        latest.done = true;
      });
  };
  return {
    async say(text) {
      const ts = `${Math.floor(Date.now() / 1000)}.${String(++said).padStart(6, '0')}`;
      const id = `slack:C2:${ts}`;
      deliveries.set(id, { event: { type: 'app_mention', user: 'U0JEFF', text: `<@${app.botUserId}> ${text}`, ts, channel: 'C2', event_ts: ts }, latest: { done: false } });
      send(id);
      return { envelopeId: id };
    },
    acked: (said) => !!deliveries.get(said.envelopeId)!.latest.delivery?.acked,
    async redeliver(said) {
      // As Slack does with an event it got no acknowledgement for: the same event again, retry 1.
      send(said.envelopeId, 1);
    },
    stop: async () => {
      void inbound;
      await stop();
    },
  };
}

describe('slack inbound, Socket Mode', () => {
  let w: Awaited<ReturnType<typeof world>>;
  before(async () => {
    w = await world();
  });
  after(async () => {
    await w.slack.close();
  });

  inboundContract('slack', { redelivery: 'platform', acknowledgement: true }, async (ctx: InboundContext) => {
    const inbound = new SlackInbound({
      mode: 'socket',
      apps: [{ persona: 'athena', botToken: w.athena.botToken, appToken: w.athena.appToken }],
      apis: w.apis,
      apiUrl: w.slack.apiUrl,
      adapter: w.adapter(),
      ...ctx,
    });
    await inbound.start();
    await w.slack.waitForConnections(1);
    return session(w.slack, w.athena, inbound, async () => {
      await inbound.stop();
      for (let i = 0; i < 100 && w.slack.connections() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    });
  });
});

describe('slack inbound, HTTP mode', () => {
  let w: Awaited<ReturnType<typeof world>>;
  let http: FastifyInstance | undefined;
  before(async () => {
    w = await world();
  });
  after(async () => {
    await w.slack.close();
  });

  inboundContract('slack', { redelivery: 'platform', acknowledgement: true }, async (ctx: InboundContext) => {
    const inbound = new SlackInbound({ mode: 'http', apps: [{ persona: 'athena', botToken: w.athena.botToken }], apis: w.apis, apiUrl: w.slack.apiUrl, adapter: w.adapter(), ...ctx });
    await inbound.start();
    http = Fastify();
    registerSlackRoutes(http, { signingSecrets: [SIGNING_SECRET], inbound, logger: silent });
    const url = await http.listen({ host: '127.0.0.1', port: 0 });
    w.slack.useHttp({ eventsUrl: `${url}/webhooks/slack/events`, interactionsUrl: `${url}/webhooks/slack/interactions`, signingSecret: SIGNING_SECRET });
    const server = http;
    return session(w.slack, w.athena, inbound, async () => {
      w.slack.useHttp(null);
      await inbound.stop();
      await server.close();
    });
  });
});
