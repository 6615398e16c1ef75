import { text } from '../../core/config/coerce.js';
import type { PlatformDescriptor } from '../../core/config/platforms.js';
import type { PlatformModule } from '../../core/modules/types.js';

/**
 * GitHub as a platform: issues and pull requests are threads (`github:owner/repo#12`). Its
 * settings are the top-level `github:` (shared with the GitHub tools) and each persona's
 * `github:` account, so it contributes no `channels.github` section and no handle.
 */
const githubPlatform = {
  name: 'github',
  threadPrefix: 'github',
  humanId: text(),
  /** GitHub compares logins without case. */
  userIdsIgnoreCase: true,
  /** GitHub's own maximum (25 MB): it never delivers a larger payload. */
  webhookBodyKb: 25 * 1024,
} as const satisfies PlatformDescriptor;

declare module '../../core/config/platforms.js' {
  interface Platforms {
    github: typeof githubPlatform;
  }
}

export const github: PlatformModule = {
  platform: githubPlatform,
  enabled: ({ config, personas }) => personas.some((p) => p.github?.login) && !!(config.github.webhookSecret || config.github.polling.enabled),
  load: async () => (await import('./module.js')).githubModule,
};
