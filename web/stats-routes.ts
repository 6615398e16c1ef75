import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { z } from 'zod';
import type { JobQueue } from '../core/queue/types.js';
import { sendError } from '../core/http/errors.js';
import type { Usage } from '../ledger/usage.js';

/** Queue depth samples kept: a day at one every 15 s. */
const MAX_SAMPLES = (24 * 3600) / 15;

interface QueueSample {
  at: string;
  [queue: string]: number | string;
}

/**
 * Queue depth over time, sampled by this process (the queues are shared, so any replica's
 * samples describe them): jobs waiting or active, per queue.
 */
export class QueueDepthSamples {
  private readonly samples: QueueSample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly queue: Pick<JobQueue, 'counts'>,
    private readonly names: readonly string[],
  ) {}

  start(intervalMs = 15_000): () => void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), intervalMs);
    this.timer.unref();
    return () => clearInterval(this.timer);
  }

  async now(): Promise<Record<string, { waiting: number; active: number; delayed: number }>> {
    const entries = await Promise.all(
      this.names.map(async (name) => {
        const c = await this.queue.counts(name);
        return [name, { waiting: c.waiting, active: c.active, delayed: c.delayed }] as const;
      }),
    );
    return Object.fromEntries(entries);
  }

  list(): QueueSample[] {
    return [...this.samples];
  }

  private async sample(): Promise<void> {
    try {
      const now = await this.now();
      const sample: QueueSample = { at: new Date().toISOString() };
      for (const [name, c] of Object.entries(now)) sample[name] = c.waiting + c.active;
      this.samples.push(sample);
      if (this.samples.length > MAX_SAMPLES) this.samples.splice(0, this.samples.length - MAX_SAMPLES);
    } catch {
      // A sample missed while Redis is unreachable; the next one tries again.
    }
  }
}

/** `GET /api/stats` (docs/api.md). */
export interface StatsAnswer {
  since: string;
  usagePerDay: ({ day: string; persona: string } & Usage)[];
  runsPerHour: { hour: string; runs: number; failed: number }[];
  /** `now` is null while the queue cannot be read. */
  queue: { now: Awaited<ReturnType<QueueDepthSamples['now']>> | null; samples: QueueSample[] };
}

const StatsQuery = z.object({ days: z.coerce.number().int().min(1).max(90).default(7) });

/** `GET /api/stats?days=7`: tokens and cost per persona per day, runs per hour (48 h), queue depth. */
export function registerStatsRoutes(app: FastifyInstance, opts: { pool: pg.Pool; depth: QueueDepthSamples }): void {
  const { pool } = opts;
  app.get('/api/stats', async (req, reply) => {
    const q = StatsQuery.safeParse(req.query ?? {});
    if (!q.success) return sendError(req, reply, 400, 'bad_request', `days: ${q.error.issues[0]!.message}`);
    const since = `(date_trunc('day', now() AT TIME ZONE 'utc') - make_interval(days => $1::int - 1)) AT TIME ZONE 'utc'`;
    const [perDay, perHour, queueNow] = await Promise.all([
      pool.query<{ day: string; persona: string; calls: number; input: string; output: string; usd: number; since: Date }>(
        `SELECT to_char(created_at AT TIME ZONE 'utc', 'YYYY-MM-DD') AS day, persona, count(*)::int AS calls,
                sum(input_tokens)::bigint AS input, sum(output_tokens)::bigint AS output, sum(cost_usd)::float8 AS usd
           FROM model_usage WHERE created_at >= ${since}
          GROUP BY 1, 2 ORDER BY 1, 2`,
        [q.data.days],
      ),
      pool.query<{ hour: Date; runs: number; failed: number }>(
        `SELECT date_trunc('hour', started_at) AS hour, count(*)::int AS runs, count(*) FILTER (WHERE error IS NOT NULL)::int AS failed
           FROM runs WHERE started_at > now() - interval '48 hours' GROUP BY 1 ORDER BY 1`,
      ),
      opts.depth.now().catch(() => null),
    ]);
    const sinceAt = (await pool.query<{ at: Date }>(`SELECT ${since} AS at`, [q.data.days])).rows[0]!.at;
    return {
      since: new Date(sinceAt).toISOString(),
      usagePerDay: perDay.rows.map((r) => ({ day: r.day, persona: r.persona, calls: r.calls, inputTokens: Number(r.input), outputTokens: Number(r.output), costUsd: r.usd })),
      runsPerHour: perHour.rows.map((r) => ({ hour: new Date(r.hour).toISOString(), runs: r.runs, failed: r.failed })),
      queue: { now: queueNow, samples: opts.depth.list() },
    } satisfies StatsAnswer;
  });
}
