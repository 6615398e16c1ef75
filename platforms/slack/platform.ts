import { z } from 'zod';
import { httpUrl, text } from '../../core/config/coerce.js';
import type { PlatformDescriptor } from '../../core/config/platforms.js';
import type { PlatformModule } from '../../core/modules/types.js';

/** Slack: one Slack app per persona (`handles.slack`), over Socket Mode or HTTP (`channels.slack.mode`). */
const slackPlatform = {
  name: 'slack',
  threadPrefix: 'slack',
  section: z.strictObject({
    mode: z.enum(['socket', 'http']).default('socket'),
    signingSecret: text().optional(),
    /** HTTP mode with one Slack app per persona: each app's own signing secret, by persona id. */
    signingSecrets: z.record(z.string(), text()).optional(),
    apiUrl: httpUrl().optional(),
    /** HTTP mode: this server's public address (the start of the Slack app's Request URL), for `pantheon doctor` to check. */
    publicUrl: httpUrl().optional(),
  }),
  handle: z.strictObject({ botToken: text(), appToken: text().optional() }),
  handleToken: (handle: { botToken: string }) => handle.botToken,
  humanId: text(),
  webhookBodyKb: 1024,
  /** About one message per second per channel. */
  rateLimit: { perThread: 1, perPlatform: 20, burst: 3 },
} as const satisfies PlatformDescriptor;

declare module '../../core/config/platforms.js' {
  interface Platforms {
    slack: typeof slackPlatform;
  }
}

export const slack: PlatformModule = {
  platform: slackPlatform,
  enabled: ({ config }) => !!config.channels.slack,
  load: async () => (await import('./module.js')).slackModule,
};
