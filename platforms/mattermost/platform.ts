import { z } from 'zod';
import { httpUrl, text } from '../../core/config/coerce.js';
import type { PlatformDescriptor } from '../../core/config/platforms.js';
import type { PlatformModule } from '../../core/modules/types.js';

/** Mattermost: one bot account per persona (`handles.mattermost.token`), the server at `channels.mattermost.url`. */
const mattermostPlatform = {
  name: 'mattermost',
  threadPrefix: 'mattermost',
  section: z.strictObject({
    url: httpUrl(),
    /** Pantheon's base URL as Mattermost reaches it (button clicks); default: the address Pantheon listens on. */
    publicUrl: httpUrl().optional(),
    /** Each bot's socket is pinged this often; one silent for two intervals is reconnected. */
    pingIntervalSeconds: z.coerce.number().positive().default(30),
    /**
     * A post the ingress cannot store (a database outage) holds its channel's read cursor and is
     * read again until stored; after this many hours it is logged as lost and the cursor moves on.
     * At most 24: a catch-up reads no further back.
     */
    lostAfterHours: z.coerce.number().positive().max(24).default(24),
  }),
  handle: z.strictObject({ token: text() }),
  handleToken: (handle: { token: string }) => handle.token,
  humanId: text(),
  /** Button clicks, `POST /webhooks/mattermost/actions`. */
  webhookBodyKb: 64,
  rateLimit: { perThread: 10, perPlatform: 50 },
} as const satisfies PlatformDescriptor;

declare module '../../core/config/platforms.js' {
  interface Platforms {
    mattermost: typeof mattermostPlatform;
  }
}

export const mattermost: PlatformModule = {
  platform: mattermostPlatform,
  enabled: ({ config }) => !!config.channels.mattermost,
  load: async () => (await import('./module.js')).mattermostModule,
};
