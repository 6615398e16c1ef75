import type { ModuleFactory, PantheonModule } from '../../core/modules/types.js';
import { LocalAdapter } from './adapter.js';
import { registerLocalChatRoutes } from './routes.js';
import { ChatStore } from './store.js';

/** The local chat module, with the store its messages live in (the SSE streams and benchmarks listen to it). */
export interface LocalChatModule extends PantheonModule {
  name: 'local';
  store: ChatStore;
}

export function isLocalChatModule(mod: PantheonModule): mod is LocalChatModule {
  return mod.name === 'local' && 'store' in mod;
}

/**
 * The embedded chat of every `pantheon start`: the `local` platform (the team posts into our own
 * database) and, where this process serves HTTP, `/api/chat/:conversation/messages` and its
 * stream. Always on; no configuration needed.
 */
export const localChatModule: ModuleFactory = (ctx): LocalChatModule => {
  const store = new ChatStore(ctx.pool);
  const { limits } = ctx.loaded.config.server;
  return {
    name: 'local',
    store,
    adapters: [new LocalAdapter(store)],
    routes(http) {
      registerLocalChatRoutes(http, { store, ingress: ctx.ingress, metrics: ctx.metrics, maxStreamsPerCredential: limits.streamsPerCredential, maxStreams: limits.streamsTotal });
    },
  };
};
