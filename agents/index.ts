/**
 * The persona agent runtime's model layer: providers, fallback, retries, and token and
 * cost accounting. The orchestrator calls `createPersonaModel` and wraps each run in `withRun`.
 */
export { createPersonaModel, usageAccountant, type PersonaModelOptions } from './persona-model.js';
export { resolveModelChain, AUTO_DETECT } from './model-chain.js';
export { parseModelSpec, isKnownProvider, BUILT_IN_PROVIDERS, type ModelSpec } from './model-spec.js';
export { buildChatModel, resolveProvider, type BuildChatModelOptions, type ResolvedProvider } from './providers.js';
export { FallbackChatModel, ModelChainError, type ModelAttempt, type ModelLink, type FallbackChatModelFields } from './fallback-model.js';
export { withRetries, classifyFailure, retryAfterMs, retryDelayMs, DEFAULT_RETRY, type RetryPolicy, type Failure } from './retry.js';
export { BUILT_IN_PRICES, priceFor, costUsd } from './pricing.js';
export { MemoryUsageRecorder, PgUsageRecorder, usageForRun, type ModelUsage, type UsageRecorder, type PersonaUsage } from './usage.js';
export { withRun, currentRun, type RunContext } from './run-context.js';
export {
  DEFAULT_MAX_RETRIES,
  DEFAULT_TIMEOUT_MS,
  type ModelEnv,
  type ModelPrice,
  type ModelsConfig,
  type PersonaModelRef,
  type ReasoningConfig,
  type ProviderConfig,
} from './model-config.js';
