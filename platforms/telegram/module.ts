import type { Context } from 'grammy';
import { ConfigError } from '../../core/config/index.js';
import { registerSecret } from '../../core/log.js';
import type { ModuleFactory } from '../../core/modules/types.js';
import { SUPERVISOR_ID } from '../../core/chat/supervisor.js';
import { pairingNotice, TelegramAccess } from './access.js';
import { TelegramAdapter } from './adapter.js';
import { TelegramBot } from './bot.js';
import { PairingStore } from './pairings.js';
import { threadIdOf } from './parse.js';
import { registerPairingRoutes, registerTelegramWebhook } from './routes.js';

/**
 * Telegram: the human's line to the orchestrator (`channels.telegram` in pantheon.yaml). Off
 * unless `channels.telegram.token` is set. One bot for the whole team; access by allowlist or
 * pairing (`pantheon pairing approve <code>`); long polling by default, or `mode: webhook`
 * with `webhookSecret` (and `webhookUrl` to register it with Telegram).
 */
export const telegramModule: ModuleFactory = (ctx) => {
  const cfg = ctx.loaded.config.channels.telegram;
  if (!cfg?.token) return null;
  const file = ctx.loaded.configFile ?? 'pantheon.yaml';
  if (cfg.mode === 'webhook' && !cfg.webhookSecret) {
    throw new ConfigError(file, 'channels.telegram.webhookSecret', 'is required with mode: webhook (Telegram sends it back in X-Telegram-Bot-Api-Secret-Token so forged updates are refused)');
  }
  if (cfg.webhookUrl && cfg.webhookSecret && !/^[A-Za-z0-9_-]{1,256}$/.test(cfg.webhookSecret)) {
    throw new ConfigError(file, 'channels.telegram.webhookSecret', 'may only use A-Z, a-z, 0-9, "_" and "-" (1-256 characters), as Telegram requires');
  }
  registerSecret(cfg.token);
  registerSecret(cfg.webhookSecret);
  const logger = ctx.logger.child({ component: 'telegram' });
  const pairings = new PairingStore(ctx.pool);
  const access = new TelegramAccess({
    allowedChatIds: cfg.allowedChatIds,
    allowedUserIds: [...(cfg.allowedUserIds ?? []), ...ctx.loaded.config.humans.flatMap((h) => (h.telegram === undefined ? [] : [h.telegram]))],
    pairings,
  });

  const onStranger = async (tg: Context) => {
    const chat = tg.chat!;
    const from = tg.from!;
    const { pairing, tell } = await pairings.request({
      chatId: chat.id,
      chatType: chat.type,
      chatTitle: 'title' in chat ? chat.title : undefined,
      userId: from.id,
      userName: from.username ? `@${from.username}` : [from.first_name, from.last_name].filter(Boolean).join(' '),
    });
    logger.info({ chat: chat.id, user: from.id, told: tell }, 'message from a Telegram chat that is not paired; no agent run');
    if (!tell) return;
    await ctx.outbox.send({
      idempotencyKey: `telegram:pairing:${pairing.code}:${tg.update.update_id}`,
      platform: 'telegram',
      threadId: threadIdOf(tg.message!),
      role: 'system',
      text: pairingNotice(pairing),
    });
  };

  const bot = new TelegramBot({
    token: cfg.token,
    apiRoot: cfg.apiRoot,
    access,
    ingress: ctx.ingress,
    commands: ctx.commands,
    onStranger,
    logger,
    metrics: ctx.metrics,
  });
  const adapter = new TelegramAdapter({
    api: bot.api,
    personaName: (id) => ctx.registry.get(id)?.name ?? (id === SUPERVISOR_ID ? 'Pantheon' : id),
    logger,
  });

  return {
    name: 'telegram',
    adapters: [adapter],
    routes(http) {
      if (cfg.mode === 'webhook') registerTelegramWebhook(http, { bot, secret: cfg.webhookSecret!, bodyLimitBytes: ctx.loaded.config.server.limits.webhookBodyKb.telegram * 1024 });
      registerPairingRoutes(http, { pairings, outbox: ctx.outbox });
    },
    async start({ inbound }) {
      if (!inbound) return;
      if (cfg.mode === 'webhook') await bot.startWebhook({ url: cfg.webhookUrl, secret: cfg.webhookSecret! });
      // Telegram allows one getUpdates poller per bot (a second ends the first with 409): one replica polls.
      else
        ctx.leases.hold('telegram:poller', {
          start: async () => bot.startPolling(),
          stop: () => bot.stop(),
          up: () => bot.isPolling(),
        });
    },
    async stop() {
      await bot.stop();
    },
  };
};
