import { z } from 'zod';
import { httpUrl, integer, text } from '../../core/config/coerce.js';
import type { PlatformDescriptor } from '../../core/config/platforms.js';
import type { PlatformModule } from '../../core/modules/types.js';

/** Telegram: one bot for the whole team (`channels.telegram.token`), the human's line to the orchestrator. */
const telegramPlatform = {
  name: 'telegram',
  threadPrefix: 'telegram',
  section: z.strictObject({
    token: text().optional(),
    mode: z.enum(['polling', 'webhook']).default('polling'),
    allowedChatIds: z.array(integer()).default([]),
    /** Telegram user ids served in any chat (besides `humans:` with a `telegram` id). */
    allowedUserIds: z.array(integer()).optional(),
    apiRoot: httpUrl().optional(),
    webhookSecret: text().optional(),
    /** Public URL of `POST /webhooks/telegram`; when set, webhook mode registers it with `setWebhook`. */
    webhookUrl: httpUrl().optional(),
  }),
  handle: z.strictObject({ token: text() }),
  handleToken: (handle: { token: string }) => handle.token,
  /** A Telegram user id is a number. */
  humanId: integer(),
  webhookBodyKb: 1024,
  /** One message per second per chat, 30 per second per bot. */
  rateLimit: { perThread: 1, perPlatform: 30, burst: 3 },
  orchestratorChat: true,
} as const satisfies PlatformDescriptor;

declare module '../../core/config/platforms.js' {
  interface Platforms {
    telegram: typeof telegramPlatform;
  }
}

export const telegram: PlatformModule = {
  platform: telegramPlatform,
  enabled: ({ config }) => !!config.channels.telegram?.token,
  load: async () => (await import('./module.js')).telegramModule,
};
