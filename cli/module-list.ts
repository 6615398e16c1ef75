import type { LoadedConfig } from '../core/config/index.js';
import type { ModuleFactory, PlatformModule } from '../core/modules/types.js';
import { PLATFORMS } from './platforms.js';

/**
 * A module whose code (and platform SDK) is loaded only when its part of the config is there:
 * an installation pays start-up time and memory only for what it uses (the SDKs weigh tens of
 * megabytes each). The module's own factory still decides, and says why when it stays off.
 */
function lazy(enabled: (loaded: LoadedConfig) => boolean, load: () => Promise<ModuleFactory>): ModuleFactory {
  return async (ctx) => (enabled(ctx.loaded) ? (await load())(ctx) : null);
}

const platformModule = (p: PlatformModule): ModuleFactory => lazy(p.enabled, p.load);

/** Started first in every process, also when a caller replaces `MODULES` (tests start only what they test): the local chat. */
export const BUILT_IN_MODULES: ModuleFactory[] = PLATFORMS.filter((p) => p.alwaysOn).map(platformModule);

/** Every optional part of Pantheon, in start order: the chat platforms, then the tool modules. */
export const MODULES: ModuleFactory[] = [
  ...PLATFORMS.filter((p) => !p.alwaysOn).map(platformModule),
  lazy(
    ({ config, personas }) => personas.some((p) => p.github?.token) || !!config.github.app,
    async () => (await import('../tools/modules/github.js')).githubToolsModule,
  ),
  lazy(
    ({ config }) => config.infra.hosts.length > 0 || config.infra.schedule.length > 0,
    async () => (await import('../tools/infra/module.js')).infraModule,
  ),
  lazy(
    ({ config }) => Object.keys(config.mcp.servers).length > 0,
    async () => (await import('../tools/mcp/module.js')).mcpModule,
  ),
];
