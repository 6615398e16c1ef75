import { Registry, Counter, Histogram, Gauge, collectDefaultMetrics } from 'prom-client';

/**
 * The process's Prometheus metrics. One registry per process (tests create their own);
 * parts of the system receive a `Metrics` and increment the instruments they own.
 */
export interface Metrics {
  registry: Registry;
  inboundEvents: Counter<'platform'>;
  /** Inbound messages the ingress could not store after every retry (core/chat/inbound.ts). */
  inboundFailures: Counter<'platform' | 'outcome'>;
  runs: Counter<'persona' | 'outcome'>;
  runDuration: Histogram<'persona'>;
  toolCalls: Counter<'persona' | 'tool' | 'outcome'>;
  modelTokens: Counter<'persona' | 'provider' | 'model' | 'direction'>;
  modelLatency: Histogram<'provider' | 'model' | 'outcome'>;
  queueDepth: Gauge<'queue' | 'state'>;
  /** How long folding a thread's oldest turns into its rolling summary took (orchestrator/graph/context.ts). */
  compactionDuration: Histogram<string>;
  /** Retention passes this process ran (the one replica holding the `retention` lease), by outcome. */
  retentionPasses: Counter<'outcome'>;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'pantheon_' });
  const registers = [registry];
  return {
    registry,
    inboundEvents: new Counter({ name: 'pantheon_inbound_events_total', help: 'Inbound chat and webhook events accepted', labelNames: ['platform'], registers }),
    inboundFailures: new Counter({
      name: 'pantheon_inbound_failures_total',
      help: 'Inbound messages not stored after every retry: outcome "unacknowledged" (the platform delivers them again) or "lost" (it cannot)',
      labelNames: ['platform', 'outcome'],
      registers,
    }),
    runs: new Counter({ name: 'pantheon_runs_total', help: 'Persona agent runs', labelNames: ['persona', 'outcome'], registers }),
    runDuration: new Histogram({
      name: 'pantheon_run_duration_seconds',
      help: 'Persona agent run duration',
      labelNames: ['persona'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    }),
    toolCalls: new Counter({ name: 'pantheon_tool_calls_total', help: 'Tool calls made by personas', labelNames: ['persona', 'tool', 'outcome'], registers }),
    modelTokens: new Counter({ name: 'pantheon_model_tokens_total', help: 'Model tokens used', labelNames: ['persona', 'provider', 'model', 'direction'], registers }),
    modelLatency: new Histogram({
      name: 'pantheon_model_latency_seconds',
      help: 'Model call latency',
      labelNames: ['provider', 'model', 'outcome'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    compactionDuration: new Histogram({
      name: 'pantheon_context_compaction_seconds',
      help: "Folding a thread's oldest turns into its rolling summary (the summary model's call included)",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    retentionPasses: new Counter({
      name: 'pantheon_retention_passes_total',
      help: 'Periodic retention passes run by this process (only the owner of the retention lease runs them)',
      labelNames: ['outcome'],
      registers,
    }),
    queueDepth: new Gauge({ name: 'pantheon_queue_depth', help: 'Jobs per queue and state', labelNames: ['queue', 'state'], registers }),
  };
}
