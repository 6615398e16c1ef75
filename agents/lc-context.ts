import { CallbackManager } from '@langchain/core/callbacks/manager';
import { AsyncLocalStorageProviderSingleton } from '@langchain/core/singletons';

/** Keys @langchain/core itself uses for the config and context variables it keeps in async local storage. */
const LC_CHILD_KEY = Symbol.for('lc:child_config');
const CONTEXT_VARIABLES_KEY = Symbol.for('lc:context_variables');
const INSTALLED = Symbol.for('pantheon:light-run-context');

type Provider = typeof AsyncLocalStorageProviderSingleton & { [INSTALLED]?: true };
type Store = Record<PropertyKey, unknown> | undefined;

/**
 * Every runnable LangGraph calls (each node, each edge, each channel write) goes through
 * `runWithConfig`, which keeps the runnable's config in async local storage for `getConfig()`,
 * `interrupt()` and friends. With no LangSmith tracer configured, @langchain/core still builds a
 * LangSmith `RunTree` (a uuid7, timestamps, a dozen environment lookups) only to carry that config:
 * about 8% of the CPU of a turn. This keeps the config in a plain object instead, exactly where
 * @langchain/core reads it (`store.extra[lc:child_config]`, context variables alongside). When a
 * tracer is configured (LANGSMITH_TRACING), the stock implementation runs, RunTree and all.
 * Idempotent; applies to the one @langchain/core copy the project has (see `npm ls`).
 */
export function installLightRunContext(): void {
  const provider = AsyncLocalStorageProviderSingleton as Provider;
  if (provider[INSTALLED]) return;
  const stock = provider.runWithConfig.bind(provider);
  provider.runWithConfig = function runWithConfig(config, callback, avoidCreatingRootRunTree) {
    if (avoidCreatingRootRunTree) return stock(config, callback, avoidCreatingRootRunTree);
    const manager = CallbackManager._configureSync(config?.callbacks, undefined, config?.tags, undefined, config?.metadata);
    if (manager?.handlers?.some((h) => h?.name === 'langchain_tracer')) return stock(config, callback, avoidCreatingRootRunTree);
    const storage = provider.getInstance();
    const previous = storage.getStore() as Store;
    const store: Record<PropertyKey, unknown> = { extra: { [LC_CHILD_KEY]: config } };
    if (previous?.[CONTEXT_VARIABLES_KEY] !== undefined) store[CONTEXT_VARIABLES_KEY] = previous[CONTEXT_VARIABLES_KEY];
    return storage.run(store, callback);
  };
  provider[INSTALLED] = true;
}
