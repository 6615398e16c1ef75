import { z } from 'zod';
import { httpUrl, text } from '../../core/config/coerce.js';
import type { PlatformDescriptor } from '../../core/config/platforms.js';
import type { PlatformModule } from '../../core/modules/types.js';

/** Discord: one bot per persona (`handles.discord.token`), on when `channels.discord` is there. */
const discordPlatform = {
  name: 'discord',
  threadPrefix: 'discord',
  section: z.strictObject({
    apiUrl: httpUrl().optional(),
    /** Whose bot posts system messages (approval requests); default orchestrator.defaultPersona. */
    systemPersona: text().optional(),
  }),
  handle: z.strictObject({ token: text() }),
  handleToken: (handle: { token: string }) => handle.token,
  humanId: text(),
  /** Five per five seconds per channel. */
  rateLimit: { perThread: 1, perPlatform: 40, burst: 5 },
} as const satisfies PlatformDescriptor;

declare module '../../core/config/platforms.js' {
  interface Platforms {
    discord: typeof discordPlatform;
  }
}

export const discord: PlatformModule = {
  platform: discordPlatform,
  enabled: ({ config }) => !!config.channels.discord,
  load: async () => (await import('./module.js')).discordModule,
};
