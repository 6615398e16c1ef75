import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { OutputStream } from '../remote-exec.js';

/** Where a job stands. `interrupted`: its worker died while it ran, and it was not safe to run again. */
export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'interrupted'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const FINISHED: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled', 'timed_out', 'interrupted'];

/** An infrastructure job: one command on one host, run by a worker from the `infra-jobs` queue. */
export interface InfraJob {
  id: string;
  persona: string | null;
  thread: string | null;
  platform: string | null;
  host: string;
  command: string;
  kind: string;
  runbook: string | null;
  step: number | null;
  idempotent: boolean;
  status: JobStatus;
  owner: string | null;
  attempts: number;
  timeoutSeconds: number;
  exitCode: number | null;
  signal: string | null;
  error: string | null;
  remotePid: number | null;
  cancelRequestedAt: Date | null;
  cancelledBy: string | null;
  workItemId: string | null;
  logLines: number;
  logDropped: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface NewJob {
  /** Identifies the request (a tool call): asking again returns the same job. */
  callKey: string;
  persona?: string;
  thread?: string;
  platform?: string;
  host: string;
  command: string;
  kind?: string;
  runbook?: string;
  step?: number;
  idempotent?: boolean;
  timeoutSeconds: number;
}

export interface LogLine {
  seq: number;
  stream: OutputStream | 'system';
  line: string;
  at: Date;
}

interface JobRow {
  id: string;
  persona: string | null;
  thread: string | null;
  platform: string | null;
  host: string;
  command: string;
  kind: string;
  runbook: string | null;
  step: number | null;
  idempotent: boolean;
  status: JobStatus;
  owner: string | null;
  attempts: number;
  timeout_seconds: number;
  exit_code: number | null;
  signal: string | null;
  error: string | null;
  remote_pid: number | null;
  cancel_requested_at: Date | null;
  cancelled_by: string | null;
  work_item_id: string | null;
  log_lines: number;
  log_dropped: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const toJob = (r: JobRow): InfraJob => ({
  id: r.id,
  persona: r.persona,
  thread: r.thread,
  platform: r.platform,
  host: r.host,
  command: r.command,
  kind: r.kind,
  runbook: r.runbook,
  step: r.step,
  idempotent: r.idempotent,
  status: r.status,
  owner: r.owner,
  attempts: r.attempts,
  timeoutSeconds: r.timeout_seconds,
  exitCode: r.exit_code,
  signal: r.signal,
  error: r.error,
  remotePid: r.remote_pid,
  cancelRequestedAt: r.cancel_requested_at,
  cancelledBy: r.cancelled_by,
  workItemId: r.work_item_id,
  logLines: r.log_lines,
  logDropped: r.log_dropped,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

/** `j-` and 8 hex digits: short enough to type after `/cancel`. */
function newJobId(): string {
  return `j-${randomBytes(4).toString('hex')}`;
}

/** A stable key for a tool call: its thread, id and arguments (call ids alone repeat on some model servers). */
export function callKey(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 40);
}

/**
 * The `infra_jobs` and `infra_job_logs` tables (migration 0015). Every state change is one
 * conditional statement, so a job re-delivered by the queue, a cancel and a finishing worker
 * settle on one outcome without transactions (the embedded database shares one session).
 */
export class JobStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly maxLogLines = 10_000,
  ) {}

  /** Creates the job, or finds the one created for the same `callKey`. */
  async create(job: NewJob): Promise<{ job: InfraJob; created: boolean }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const { rows } = await this.pool.query<JobRow>(
        `INSERT INTO infra_jobs (id, call_key, persona, thread, platform, host, command, kind, runbook, step, idempotent, timeout_seconds)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT DO NOTHING RETURNING *`,
        [
          newJobId(),
          job.callKey,
          job.persona ?? null,
          job.thread ?? null,
          job.platform ?? null,
          job.host,
          job.command,
          job.kind ?? 'command',
          job.runbook ?? null,
          job.step ?? null,
          job.idempotent ?? false,
          job.timeoutSeconds,
        ],
      );
      if (rows[0]) return { job: toJob(rows[0]), created: true };
      const existing = await this.pool.query<JobRow>('SELECT * FROM infra_jobs WHERE call_key = $1', [job.callKey]);
      if (existing.rows[0]) return { job: toJob(existing.rows[0]), created: false };
      // An id clash (1 in 4 billion): try another id.
    }
    throw new Error('could not create an infra job: no free job id');
  }

  async get(id: string): Promise<InfraJob | undefined> {
    const { rows } = await this.pool.query<JobRow>('SELECT * FROM infra_jobs WHERE id = $1', [id.trim().toLowerCase()]);
    return rows[0] ? toJob(rows[0]) : undefined;
  }

  /** Newest first. */
  async list(filter: { thread?: string; status?: JobStatus; limit?: number } = {}): Promise<InfraJob[]> {
    const { rows } = await this.pool.query<JobRow>(
      `SELECT * FROM infra_jobs WHERE ($1::text IS NULL OR thread = $1) AND ($2::text IS NULL OR status = $2)
       ORDER BY created_at DESC LIMIT $3`,
      [filter.thread ?? null, filter.status ?? null, Math.min(Math.max(filter.limit ?? 50, 1), 500)],
    );
    return rows.map(toJob);
  }

  async getByCallKey(key: string): Promise<InfraJob | undefined> {
    const { rows } = await this.pool.query<JobRow>('SELECT * FROM infra_jobs WHERE call_key = $1', [key]);
    return rows[0] ? toJob(rows[0]) : undefined;
  }

  /** The last job of a runbook in a thread (runbook steps run in order). */
  async lastRunbookJob(thread: string, runbook: string): Promise<InfraJob | undefined> {
    const { rows } = await this.pool.query<JobRow>('SELECT * FROM infra_jobs WHERE thread = $1 AND runbook = $2 ORDER BY created_at DESC LIMIT 1', [thread, runbook]);
    return rows[0] ? toJob(rows[0]) : undefined;
  }

  /** Takes a queued job for `owner`. Undefined when it is not queued (finished, cancelled, or someone else's). */
  async claim(id: string, owner: string): Promise<InfraJob | undefined> {
    const { rows } = await this.pool.query<JobRow>(
      `UPDATE infra_jobs SET status = 'running', owner = $2, attempts = attempts + 1, heartbeat_at = now(),
         started_at = COALESCE(started_at, now())
       WHERE id = $1 AND status = 'queued' AND cancel_requested_at IS NULL RETURNING *`,
      [id, owner],
    );
    return rows[0] ? toJob(rows[0]) : undefined;
  }

  async setRemotePid(id: string, pid: number): Promise<void> {
    await this.pool.query('UPDATE infra_jobs SET remote_pid = $2 WHERE id = $1', [id, pid]);
  }

  /** Worker liveness for its running jobs. */
  async heartbeat(owner: string): Promise<void> {
    await this.pool.query(`UPDATE infra_jobs SET heartbeat_at = now() WHERE owner = $1 AND status = 'running'`, [owner]);
  }

  /** Finishes a job this owner runs; false if it was no longer its to finish. */
  async finish(id: string, owner: string | null, outcome: { status: JobStatus; exitCode?: number | null; signal?: string | null; error?: string }): Promise<InfraJob | undefined> {
    const { rows } = await this.pool.query<JobRow>(
      `UPDATE infra_jobs SET status = $3, exit_code = $4, signal = $5, error = $6, finished_at = now()
       WHERE id = $1 AND status IN ('queued', 'running') AND ($2::text IS NULL OR owner = $2) RETURNING *`,
      [id, owner, outcome.status, outcome.exitCode ?? null, outcome.signal ?? null, outcome.error?.slice(0, 2000) ?? null],
    );
    return rows[0] ? toJob(rows[0]) : undefined;
  }

  /** Puts a running job back in the queue for another try (idempotent jobs only). */
  async requeue(id: string, owner: string | null, error: string): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE infra_jobs SET status = 'queued', owner = NULL, error = $3, remote_pid = NULL
       WHERE id = $1 AND status = 'running' AND ($2::text IS NULL OR owner = $2) AND idempotent`,
      [id, owner, error.slice(0, 2000)],
    );
    return (r.rowCount ?? 0) > 0;
  }

  /** Records who asked to cancel; a job still in the queue is cancelled on the spot. */
  async requestCancel(id: string, by: string): Promise<InfraJob | undefined> {
    const { rows } = await this.pool.query<JobRow>(
      `UPDATE infra_jobs SET cancel_requested_at = COALESCE(cancel_requested_at, now()), cancelled_by = COALESCE(cancelled_by, $2),
         status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
         finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END
       WHERE id = $1 AND status IN ('queued', 'running') RETURNING *`,
      [id.trim().toLowerCase(), by],
    );
    return rows[0] ? toJob(rows[0]) : undefined;
  }

  /** Running jobs of `owner` someone asked to cancel. */
  async cancelRequested(owner: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(`SELECT id FROM infra_jobs WHERE owner = $1 AND status = 'running' AND cancel_requested_at IS NOT NULL`, [owner]);
    return rows.map((r) => r.id);
  }

  /** Running jobs whose worker has been silent for `staleSeconds`. */
  async orphaned(staleSeconds: number): Promise<InfraJob[]> {
    const { rows } = await this.pool.query<JobRow>(`SELECT * FROM infra_jobs WHERE status = 'running' AND heartbeat_at < now() - ($1::float8 * interval '1 second')`, [staleSeconds]);
    return rows.map(toJob);
  }

  /** Jobs waiting for a worker (re-enqueued after a restart of the embedded queue). */
  async queued(): Promise<InfraJob[]> {
    const { rows } = await this.pool.query<JobRow>(`SELECT * FROM infra_jobs WHERE status = 'queued' ORDER BY created_at`);
    return rows.map(toJob);
  }

  async setWorkItem(id: string, workItemId: string): Promise<void> {
    await this.pool.query('UPDATE infra_jobs SET work_item_id = $2 WHERE id = $1', [id, workItemId]);
  }

  /** Appends lines (already scrubbed); past the cap they are counted, not kept. One writer per job: its worker. */
  async appendLog(id: string, lines: { stream: LogLine['stream']; line: string }[]): Promise<void> {
    if (!lines.length) return;
    const { rows } = await this.pool.query<{ before: number; after: number }>(
      `WITH old AS (SELECT log_lines FROM infra_jobs WHERE id = $1)
       UPDATE infra_jobs j SET log_lines = LEAST(j.log_lines + $2, $3), log_dropped = j.log_dropped + GREATEST(j.log_lines + $2 - $3, 0)
       FROM old WHERE j.id = $1 RETURNING old.log_lines AS before, j.log_lines AS after`,
      [id, lines.length, this.maxLogLines],
    );
    const { before = 0, after = 0 } = rows[0] ?? {};
    const kept = lines.slice(0, after - before);
    if (!kept.length) return;
    const values: string[] = [];
    const params: unknown[] = [id];
    kept.forEach((l, i) => {
      params.push(before + i + 1, l.stream, l.line);
      values.push(`($1, $${params.length - 2}, $${params.length - 1}, $${params.length})`);
    });
    await this.pool.query(`INSERT INTO infra_job_logs (job_id, seq, stream, line) VALUES ${values.join(', ')} ON CONFLICT DO NOTHING`, params);
  }

  /** The stored log, oldest first. */
  async log(id: string, opts: { afterSeq?: number; limit?: number } = {}): Promise<LogLine[]> {
    const { rows } = await this.pool.query<LogLine>(`SELECT seq, stream, line, at FROM infra_job_logs WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [
      id,
      opts.afterSeq ?? 0,
      Math.min(opts.limit ?? this.maxLogLines, this.maxLogLines),
    ]);
    return rows;
  }

  /** The last `n` lines, oldest first. */
  async tail(id: string, n: number): Promise<LogLine[]> {
    const { rows } = await this.pool.query<LogLine>(`SELECT * FROM (SELECT seq, stream, line, at FROM infra_job_logs WHERE job_id = $1 ORDER BY seq DESC LIMIT $2) t ORDER BY seq`, [id, n]);
    return rows;
  }
}
