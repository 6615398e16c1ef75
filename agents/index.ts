/**
 * The persona agent runtime's model layer: providers, fallback, retries, and token and
 * cost accounting. The orchestrator calls `createPersonaModel` and wraps each run in `withRun`.
 * This barrel holds what other folders import; the rest is imported from its own file.
 */
export { createPersonaModel } from './persona-model.js';
export { resolveModelChain } from './model-chain.js';
export { parseModelSpec } from './model-spec.js';
export { buildChatModel, resolveProvider } from './providers.js';
export { FallbackChatModel, ModelChainError } from './fallback-model.js';
export { priceFor, costUsd } from './pricing.js';
export { MemoryUsageRecorder, PgUsageRecorder, usageForRun } from './usage.js';
export { withRun } from './run-context.js';
export type { ModelsConfig, ReasoningConfig } from './model-config.js';
