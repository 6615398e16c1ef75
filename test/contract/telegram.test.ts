import { after, before, describe } from 'node:test';
import Fastify from 'fastify';
import { TelegramAccess } from '../../platforms/telegram/access.js';
import { TelegramAdapter } from '../../platforms/telegram/adapter.js';
import { TelegramBot } from '../../platforms/telegram/bot.js';
import type { PairingStore } from '../../platforms/telegram/pairings.js';
import { registerTelegramWebhook } from '../../platforms/telegram/routes.js';
import { createLogger } from '../../core/log.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram/index.js';
import { inboundContract, type InboundContext, type InboundSession } from './inbound-suite.js';
import { outboundContract, type ShownMessage } from './outbound-suite.js';

/**
 * Telegram against its fake Bot API, through the real grammY: the orchestrator's one bot, as
 * telegram/module.ts builds it. Inbound runs in both modes (long polling and webhook).
 */
const silent = createLogger({ level: 'silent' });
const jeff = { id: 111, first_name: 'Jeff', username: 'jeff' };
const WEBHOOK_SECRET = 'contract-telegram-webhook-secret';
/** Only allow-listed chats here: the pairing store is never asked. */
const noPairings = { isApproved: async () => false } as unknown as PairingStore;
const commands = { list: () => [] };

function botFor(fake: FakeTelegram, ctx: Pick<InboundContext, 'ingress' | 'logger'> & Partial<InboundContext>) {
  return new TelegramBot({
    token: fake.token,
    apiRoot: fake.apiRoot,
    access: new TelegramAccess({ allowedChatIds: [jeff.id], allowedUserIds: [], pairings: noPairings }),
    ingress: ctx.ingress,
    commands,
    onStranger: async () => {},
    logger: ctx.logger,
    metrics: ctx.metrics,
    pollTimeoutSeconds: 1,
  });
}

const shown = (fake: FakeTelegram, chatId: number): ShownMessage[] =>
  fake.sent
    .filter((m) => m.chat_id === chatId)
    .map((m) => ({
      id: String(m.message_id),
      text: m.visible,
      buttons: (m.reply_markup?.inline_keyboard ?? []).flat().map((b) => (b.callback_data ?? '').replace(':', ' ')),
    }));

outboundContract(
  'telegram',
  {
    postOnceAfterRestart: { missing: 'sendMessage takes no idempotency key: the adapter remembers the parts of a message it sent in memory, so a post repeated after a restart is sent again' },
    resumeAfterFailure: true,
    edit: true,
    buttons: true,
    cardFallback: true,
    split: { limit: 4096 },
    retryAfter: true,
  },
  async () => {
    const fake = await startFakeTelegram();
    const bot = botFor(fake, { ingress: async (e) => ({ id: e.id, accepted: false }), logger: silent });
    const adapter = () => new TelegramAdapter({ api: bot.api, personaName: (id) => id[0]!.toUpperCase() + id.slice(1), logger: silent });
    return {
      platform: {
        adapter: adapter(),
        threadId: `telegram:${jeff.id}`,
        messages: async () => shown(fake, jeff.id),
        restarted: async () => adapter(),
        rateLimitNext: (seconds) => fake.failNext('sendMessage', { retryAfter: seconds }),
        // Telegram refuses a card by its HTML: the adapter sends the card's text, plain.
        refuseNextCard: () => fake.refuseHtmlNext(),
        failNextPart: (index) => fake.failAfter('sendMessage', { after: index }),
      },
      close: () => fake.close(),
    };
  },
);

function session(fake: FakeTelegram, stop: () => Promise<void>): InboundSession {
  const updates = new Map<string, ReturnType<FakeTelegram['sendText']>>();
  return {
    async say(text) {
      const update = fake.sendText({ from: jeff, text });
      const id = `telegram:msg:${jeff.id}:${update.message.message_id}`;
      updates.set(id, update);
      return { envelopeId: id };
    },
    acked: (said) => fake.confirmed(updates.get(said.envelopeId)!.update_id),
    async redeliver(said) {
      fake.redeliver(updates.get(said.envelopeId)!);
    },
    stop,
  };
}

describe('telegram inbound, long polling', () => {
  let fake: FakeTelegram;
  before(async () => {
    fake = await startFakeTelegram();
  });
  after(async () => {
    await fake.close();
  });

  inboundContract('telegram', { redelivery: 'platform', acknowledgement: true }, async (ctx) => {
    const bot = botFor(fake, ctx);
    bot.startPolling();
    return session(fake, () => bot.stop());
  });
});

describe('telegram inbound, webhook', () => {
  let fake: FakeTelegram;
  before(async () => {
    fake = await startFakeTelegram();
  });
  after(async () => {
    await fake.close();
  });

  inboundContract('telegram', { redelivery: 'platform', acknowledgement: true }, async (ctx) => {
    const bot = botFor(fake, ctx);
    const http = Fastify();
    registerTelegramWebhook(http, { bot, secret: WEBHOOK_SECRET });
    const url = await http.listen({ host: '127.0.0.1', port: 0 });
    fake.useWebhook(`${url}/webhooks/telegram`, WEBHOOK_SECRET);
    return session(fake, async () => {
      fake.useWebhook(undefined);
      await bot.stop();
      await http.close();
    });
  });
});
