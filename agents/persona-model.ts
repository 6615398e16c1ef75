import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import { DEFAULT_MAX_RETRIES, type ModelEnv, type ModelsConfig, type PersonaModelRef } from './model-config.js';
import { resolveModelChain } from './model-chain.js';
import { parseModelSpec } from './model-spec.js';
import { buildChatModel } from './providers.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import { FallbackChatModel, type ModelAttempt, type ModelLink } from './fallback-model.js';
import { costUsd } from './pricing.js';
import { currentRun } from './run-context.js';
import type { ModelUsage, UsageRecorder } from './usage.js';

export interface PersonaModelOptions {
  persona: PersonaModelRef;
  models: ModelsConfig;
  env?: ModelEnv;
  recorder?: UsageRecorder;
  metrics?: Metrics;
  logger?: Pick<Logger, 'warn' | 'debug'>;
  /** Backoff tuning when the server gives no Retry-After; tests shorten it. */
  retry?: Partial<Omit<RetryPolicy, 'maxRetries'>>;
}

/** Turns each attempt into a usage record and metric samples, labelled by the current run. */
function usageAccountant(opts: Pick<PersonaModelOptions, 'persona' | 'models' | 'recorder' | 'metrics'>) {
  return async (a: ModelAttempt): Promise<void> => {
    const run = currentRun();
    // The model belongs to one persona: a team run (one runId) calls several personas' models.
    const persona = opts.persona.id;
    const usage: ModelUsage = {
      runId: run?.runId ?? null,
      persona,
      provider: a.provider,
      model: a.model,
      inputTokens: a.usage.input,
      outputTokens: a.usage.output,
      costUsd: costUsd(a.provider, a.model, a.usage, opts.models.pricing),
      latencyMs: Math.round(a.latencyMs),
      ok: a.ok,
    };
    if (opts.metrics) {
      const labels = { persona, provider: a.provider, model: a.model };
      if (usage.inputTokens) opts.metrics.modelTokens.inc({ ...labels, direction: 'input' }, usage.inputTokens);
      if (usage.outputTokens) opts.metrics.modelTokens.inc({ ...labels, direction: 'output' }, usage.outputTokens);
      opts.metrics.modelLatency.observe({ provider: a.provider, model: a.model, outcome: a.ok ? 'ok' : 'error' }, a.latencyMs / 1000);
    }
    await opts.recorder?.record(usage);
  };
}

/**
 * The chat model a persona's agent runs on: its model chain resolved (see
 * resolveModelChain), each model built for its provider, wrapped so that each model is
 * retried, then the next one tried, and every call is accounted. Throws at once, with what
 * to set, when no model is configured or a provider lacks its API key.
 */
export function createPersonaModel(opts: PersonaModelOptions): BaseChatModel {
  const env = opts.env ?? process.env;
  const chain = resolveModelChain(opts.persona, opts.models, env);
  const links: ModelLink[] = chain.map((spec) => {
    const { provider, model } = parseModelSpec(spec, opts.models);
    return { spec, provider, model, base: buildChatModel(spec, { models: opts.models, env, reasoning: opts.persona.reasoning }) };
  });
  return new FallbackChatModel({
    links,
    retry: { ...DEFAULT_RETRY, ...opts.retry, maxRetries: opts.models.maxRetries ?? DEFAULT_MAX_RETRIES },
    onAttempt: usageAccountant(opts),
    logger: opts.logger,
  });
}
