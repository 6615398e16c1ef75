import type pg from 'pg';

/** One model call, as accounted: every attempt is recorded, failed ones with `ok: false`. */
export interface ModelUsage {
  /** The run it belongs to (from the run context); null outside a run. */
  runId: string | null;
  persona: string;
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  latencyMs: number;
  ok: boolean;
}

/** Where usage goes. Recording must not fail a model call; callers log its errors. */
export interface UsageRecorder {
  record(u: ModelUsage): Promise<void>;
}

/** Keeps usage in memory: for tests and for running without a database. */
export class MemoryUsageRecorder implements UsageRecorder {
  readonly records: ModelUsage[] = [];
  async record(u: ModelUsage): Promise<void> {
    this.records.push(u);
  }
}

/**
 * Writes to `model_usage` (core/db/migrations/0003_model_usage.sql). The table is named
 * without a schema so the pool's search_path decides, as for every other table.
 */
export class PgUsageRecorder implements UsageRecorder {
  constructor(private readonly pool: pg.Pool) {}

  async record(u: ModelUsage): Promise<void> {
    await this.pool.query(
      `INSERT INTO model_usage (run_id, persona, provider, model, input_tokens, output_tokens, cost_usd, latency_ms, ok)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [u.runId, u.persona, u.provider, u.model, Math.round(u.inputTokens), Math.round(u.outputTokens), u.costUsd, Math.round(u.latencyMs), u.ok],
    );
  }
}

export interface PersonaUsage {
  persona: string;
  calls: number;
  failedCalls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** Token and cost totals of one run, per persona, ordered by persona id. */
export async function usageForRun(pool: pg.Pool, runId: string): Promise<PersonaUsage[]> {
  const { rows } = await pool.query(
    `SELECT persona,
            count(*)::int AS calls,
            count(*) FILTER (WHERE NOT ok)::int AS failed_calls,
            coalesce(sum(input_tokens), 0)::bigint AS input_tokens,
            coalesce(sum(output_tokens), 0)::bigint AS output_tokens,
            coalesce(sum(cost_usd), 0)::float8 AS cost_usd
       FROM model_usage
      WHERE run_id = $1
      GROUP BY persona
      ORDER BY persona`,
    [runId],
  );
  return rows.map((r) => ({
    persona: r.persona,
    calls: r.calls,
    failedCalls: r.failed_calls,
    inputTokens: Number(r.input_tokens),
    outputTokens: Number(r.output_tokens),
    costUsd: r.cost_usd,
  }));
}
