import type pg from 'pg';

/** Model tokens and dollars of one persona or one thread over a period. */
export interface UsageLine {
  /** The persona id, or the thread (`local:ops`, `slack:C1/1712.5`; `-` for runs not yet finished). */
  key: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** Model use without its key: what a persona, the team or a day used. */
export type Usage = Omit<UsageLine, 'key'>;

export interface UsageReport {
  /** Counted from here (00:00 UTC of the first day). */
  since: string;
  personas: UsageLine[];
  threads: UsageLine[];
}

/**
 * What the team's model calls used since 00:00 UTC `days - 1` days ago, per persona and per thread
 * (from `model_usage`, a call's thread through its run), heaviest first: what the daily budgets
 * (`budget:` of a persona, `orchestrator.budget`) count.
 */
export async function usageReport(pool: pg.Pool, opts: { days?: number; threads?: number } = {}): Promise<UsageReport> {
  const days = Math.max(1, Math.floor(opts.days ?? 1));
  const { rows } = await pool.query<{ persona: string | null; thread: string | null; calls: number; input: string; output: string; usd: number; since: Date }>(
    `WITH since AS (SELECT (date_trunc('day', now() AT TIME ZONE 'utc') - make_interval(days => $1::int - 1)) AT TIME ZONE 'utc' AS at),
          u AS (SELECT u.persona, coalesce(r.conversation, '-') AS thread, u.input_tokens, u.output_tokens, u.cost_usd
                  FROM model_usage u LEFT JOIN runs r ON r.id = u.run_id, since WHERE u.created_at >= since.at)
     SELECT persona, thread, count(*)::int AS calls, sum(input_tokens)::bigint AS input, sum(output_tokens)::bigint AS output,
            sum(cost_usd)::float8 AS usd, (SELECT at FROM since) AS since
       FROM u GROUP BY GROUPING SETS ((persona), (thread))`,
    [days],
  );
  const line = (key: string, r: (typeof rows)[number]): UsageLine => ({ key, calls: r.calls, inputTokens: Number(r.input), outputTokens: Number(r.output), costUsd: r.usd });
  const heaviest = (a: UsageLine, b: UsageLine) => b.inputTokens + b.outputTokens - (a.inputTokens + a.outputTokens) || a.key.localeCompare(b.key);
  const personas = rows
    .filter((r) => r.persona !== null)
    .map((r) => line(r.persona!, r))
    .sort(heaviest);
  const threads = rows
    .filter((r) => r.persona === null && r.thread !== null)
    .map((r) => line(r.thread!, r))
    .sort(heaviest)
    .slice(0, opts.threads ?? 20);
  const since =
    rows[0]?.since ?? (await pool.query<{ at: Date }>(`SELECT (date_trunc('day', now() AT TIME ZONE 'utc') - make_interval(days => $1::int - 1)) AT TIME ZONE 'utc' AS at`, [days])).rows[0]!.at;
  return { since: new Date(since).toISOString(), personas, threads };
}
