import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DiscordAdapter } from '../../platforms/discord/adapter.js';
import { PersonaBot } from '../../platforms/discord/bot.js';
import type { ApprovalCard, Envelope } from '../../core/chat/types.js';
import { INBOUND_RETRY } from '../../core/chat/inbound.js';
import { createLogger, type Logger } from '../../core/log.js';
import { startFakeDiscord, type FakeDiscord } from '../fakes/discord/index.js';
import { inboundContract, type InboundContext } from './inbound-suite.js';
import { outboundContract, type ShownMessage } from './outbound-suite.js';
import { sleep, until } from './durable-ingress.js';

/**
 * Discord against its fake (REST and gateway), through the real discord.js: two persona bots
 * (athena for the system, apollo) in one guild, as discord/module.ts builds them.
 */
const ATHENA = 'athena-contract-token-0001';
const APOLLO = 'apollo-contract-token-0002';
const silent = createLogger({ level: 'silent' });

async function world() {
  const fake = await startFakeDiscord();
  fake.addBot(ATHENA, 'Athena');
  fake.addBot(APOLLO, 'Apollo');
  const jeff = fake.addHuman('jeff');
  const guildId = fake.createGuild('olympus').id;
  const general = fake.createChannel(guildId, 'general');
  return { fake, jeff, guildId, general };
}

function adapterFor(fake: FakeDiscord, opts: { ingress: InboundContext['ingress']; logger: Logger; metrics?: InboundContext['metrics'] }) {
  return new DiscordAdapter({
    bots: new Map([
      ['athena', new PersonaBot('athena', ATHENA, fake.apiUrl, opts.logger)],
      ['apollo', new PersonaBot('apollo', APOLLO, fake.apiUrl, opts.logger)],
    ]),
    systemPersona: 'athena',
    displayName: (id) => id[0]!.toUpperCase() + id.slice(1),
    ingress: opts.ingress,
    logger: opts.logger,
    metrics: opts.metrics,
  });
}

const shown = (fake: FakeDiscord, channelId: string): ShownMessage[] =>
  [...fake.state.messages.values()]
    .filter((m) => m.channel_id === channelId && m.author.bot)
    .map((m) => ({
      id: String(m.id),
      text: String(m.content),
      buttons: ((m.components ?? []) as Array<{ components: Array<{ custom_id: string }> }>).flatMap((row) => row.components.map((b) => b.custom_id.replace(':', ' '))),
    }));

outboundContract(
  'discord',
  {
    // Discord drops a repeated nonce (enforce_nonce) for a few minutes: a restarted adapter posts once.
    postOnceAfterRestart: true,
    resumeAfterFailure: true,
    edit: true,
    buttons: true,
    cardFallback: true,
    split: { limit: 2000 },
    retryAfter: true,
  },
  async () => {
    const { fake, guildId, general } = await world();
    const nothingIn = async (e: Envelope) => ({ id: e.id, accepted: false });
    const adapter = adapterFor(fake, { ingress: nothingIn, logger: silent });
    return {
      platform: {
        adapter,
        threadId: `discord:${guildId}:${general.id}`,
        messages: async () => shown(fake, general.id),
        restarted: async () => adapterFor(fake, { ingress: nothingIn, logger: silent }),
        rateLimitNext: (seconds) => fake.rateLimitNext({ retryAfterMs: seconds * 1000 }),
        refuseNextCard: () => fake.refuseComponentsNext(),
        failNextPart: (index) => fake.failCreatesAfter(index, 4),
      },
      close: () => fake.close(),
    };
  },
);

describe('discord inbound', () => {
  let w: Awaited<ReturnType<typeof world>>;
  before(async () => {
    w = await world();
  });
  after(async () => {
    await w.fake.close();
  });

  inboundContract(
    'discord',
    {
      redelivery: 'none',
      acknowledgement: { missing: 'a gateway message has no acknowledgement and is never delivered again (a button press is acknowledged once stored: see below)' },
    },
    async (ctx) => {
      const adapter = adapterFor(w.fake, ctx);
      await adapter.start();
      const sent = new Map<string, ReturnType<FakeDiscord['say']>>();
      return {
        async say(text) {
          const message = w.fake.say(w.general.id, w.jeff, text);
          sent.set(`discord:${message.id}`, message);
          return { envelopeId: `discord:${message.id}` };
        },
        acked: () => false,
        async redeliver(said) {
          w.fake.replay(sent.get(said.envelopeId)!);
        },
        async stop() {
          await adapter.idle();
          await adapter.stop();
        },
      };
    },
  );
});

describe('discord button presses', () => {
  const card: ApprovalCard = {
    approvalId: 'cd34',
    title: 'Approval needed [cd34]',
    fields: [],
    actions: [
      { id: 'approve', label: 'Approve' },
      { id: 'deny', label: 'Deny' },
    ],
    fallbackText: 'answer approve cd34 or deny cd34',
  };

  it('a press is acknowledged to Discord only once stored; one not stored is left unanswered (the clicker sees it failed)', async () => {
    const { fake, jeff, guildId, general } = await world();
    const stored: string[] = [];
    const calls: string[] = [];
    let failing = true;
    let release!: () => void;
    let gate: Promise<void> | undefined;
    const adapter = adapterFor(fake, {
      ingress: async (e) => {
        calls.push(e.id);
        if (failing) throw new Error('database unavailable');
        await gate;
        stored.push(e.id);
        return { id: e.id, accepted: true };
      },
      logger: silent,
    });
    try {
      await adapter.start();
      const threadId = `discord:${guildId}:${general.id}`;
      const posted = await adapter.post({ idempotencyKey: 'card-cd34', platform: 'discord', threadId, role: 'system', text: card.fallbackText, card });

      const refused = fake.click(posted.id, 'approve:cd34', jeff);
      await until(() => calls.filter((id) => id === `discord:interaction:${refused}`).length === INBOUND_RETRY.attempts, 'every try');
      await adapter.idle();
      await sleep(200);
      assert.equal(
        fake.log.interactionCallbacks.find((c) => c.interactionId === refused),
        undefined,
        'not acknowledged',
      );
      assert.deepEqual(stored, []);

      failing = false;
      gate = new Promise<void>((r) => {
        release = r;
      });
      const pressed = fake.click(posted.id, 'approve:cd34', jeff);
      await sleep(300);
      assert.equal(
        fake.log.interactionCallbacks.find((c) => c.interactionId === pressed),
        undefined,
        'not acknowledged before stored',
      );
      release();
      const ack = await until(() => fake.log.interactionCallbacks.find((c) => c.interactionId === pressed), 'the acknowledgement');
      assert.equal(ack.type, 6);
      assert.deepEqual(stored, [`discord:interaction:${pressed}`]);
    } finally {
      await adapter.stop();
      await fake.close();
    }
  });
});
