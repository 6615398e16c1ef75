import type { LoadedConfig } from '../core/config/index.js';
import type { ModuleFactory } from './modules.js';

/**
 * A module whose code (and platform SDK) is loaded only when its part of the config is there:
 * an installation pays start-up time and memory only for what it uses (the SDKs weigh tens of
 * megabytes each). The module's own factory still decides, and says why when it stays off.
 */
function lazy(enabled: (loaded: LoadedConfig) => boolean, load: () => Promise<ModuleFactory>): ModuleFactory {
  return async (ctx) => (enabled(ctx.loaded) ? (await load())(ctx) : null);
}

/** Every optional part of Pantheon, in start order. */
export const MODULES: ModuleFactory[] = [
  lazy(({ config }) => !!config.channels.mattermost, async () => (await import('../channels/mattermost/module.js')).mattermostModule),
  lazy(({ config }) => !!config.channels.slack, async () => (await import('../channels/slack/module.js')).slackModule),
  lazy(
    ({ config, personas }) => personas.some((p) => p.github?.login) && !!(config.github.webhookSecret || config.github.polling.enabled),
    async () => (await import('../channels/github/module.js')).githubModule,
  ),
  lazy(({ config }) => !!config.channels.telegram?.token, async () => (await import('../channels/telegram/module.js')).telegramModule),
  lazy(({ config }) => !!config.channels.discord, async () => (await import('../channels/discord/module.js')).discordModule),
  lazy(
    ({ config, personas }) => personas.some((p) => p.github?.token) || !!config.github.app,
    async () => (await import('../tools/github/module.js')).githubToolsModule,
  ),
  lazy(({ config }) => config.infra.hosts.length > 0 || config.infra.schedule.length > 0, async () => (await import('../tools/infra/module.js')).infraModule),
];
