import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Envelope } from '../core/chat/types.js';
import { statement } from '../core/db/statements.js';
import { latestCheckpointSql, type CheckpointRow } from './checkpoint/pg-saver.js';

/** An inbound message not yet answered: pending, being processed, or held behind an approval. */
export interface PendingRow {
  id: string;
  status: string;
  payload: Envelope;
}

/** What a run about to take a thread needs to know of it, read in the statement that takes it. */
export interface ThreadOpening {
  /** No run pending and nothing paused: its graph state need not be read before a new turn. */
  clean: boolean;
  /** Its unanswered inbound messages, oldest first. */
  pending: PendingRow[];
  /** Its latest checkpoint, read in passing (null: never run), for the checkpointer to serve (PgCheckpointSaver.prime). */
  latest: CheckpointRow | null;
}

/** The thread's unanswered messages as one JSON array (a column of the opening statements). */
const PENDING_JSON = `(SELECT coalesce(json_agg(json_build_object('id', id, 'status', status, 'payload', payload) ORDER BY received_at, id), '[]'::json)
   FROM inbound_messages WHERE conversation = $1 AND status IN ('pending', 'processing', 'held'))`;
/** The thread's latest checkpoint as columns `cp.*`; a thread with none was never run and has nothing to resume. */
const LATEST = `LEFT JOIN LATERAL (${latestCheckpointSql('$1')}) cp ON true`;
const NEVER_RUN = `cp.checkpoint_id IS NULL`;

type OpeningRow = CheckpointRow & { clean: boolean; pending: PendingRow[] };
const latestOf = (row: OpeningRow): CheckpointRow | null => {
  if (row.checkpoint_id === null) return null;
  const { clean: _clean, pending: _pending, ...latest } = row;
  return latest;
};

/** A thread's unanswered inbound messages, oldest first. */
export async function pendingFor(pool: pg.Pool, thread: string): Promise<PendingRow[]> {
  const { rows } = await pool.query<{ pending: PendingRow[] }>(statement(pool, 'inbound_pending', `SELECT ${PENDING_JSON} AS pending`, [thread]));
  return rows[0]!.pending;
}

/**
 * Opens a thread in a process that is the only one running turns (no leases): whether it was
 * never run, and what waits in it, in one statement.
 */
export async function openThread(pool: pg.Pool, thread: string): Promise<{ neverRun: boolean; pending: PendingRow[]; latest: CheckpointRow | null }> {
  const { rows } = await pool.query<OpeningRow>(statement(pool, 'thread_open',
    `SELECT ${NEVER_RUN} AS clean, ${PENDING_JSON} AS pending, cp.* FROM (SELECT 1) one ${LATEST}`, [thread]));
  const row = rows[0]!;
  return { neverRun: row.clean, pending: row.pending, latest: latestOf(row) };
}

/**
 * One run at a time per thread across processes (BullMQ workers): a lease row in Postgres,
 * taken when free or expired, renewed while the run lasts, released at the end. (Advisory locks
 * would be simpler, but through pglite-socket every connection shares one session.) The row also
 * remembers whether the thread was left clean (no run pending, nothing paused): it is marked not
 * clean while held, so a holder that dies mid-run leaves it for the next one to read and resume.
 */
export class ThreadLeases {
  readonly owner = `${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(private readonly pool: pg.Pool, private readonly ttlMs = 30_000) {}

  /**
   * Takes the thread when it is free, expired or already ours, and reads what waits in it in the
   * same statement. Answers null when another process holds it.
   */
  async tryAcquire(thread: string): Promise<ThreadOpening | null> {
    const { rows } = await this.pool.query<OpeningRow>(statement(this.pool, 'lease_open',
      `WITH before AS (SELECT clean FROM thread_leases WHERE thread = $1),
       taken AS (
         INSERT INTO thread_leases (thread, owner, expires_at, clean) VALUES ($1, $2, now() + $3 * interval '1 millisecond', false)
         ON CONFLICT (thread) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at, clean = false
         WHERE thread_leases.expires_at < now() OR thread_leases.owner = EXCLUDED.owner
         RETURNING 1)
       SELECT coalesce((SELECT clean FROM before), ${NEVER_RUN}) AS clean, ${PENDING_JSON} AS pending, cp.* FROM taken ${LATEST}`,
      [thread, this.owner, this.ttlMs],
    ));
    const row = rows[0];
    return row ? { clean: row.clean, pending: row.pending, latest: latestOf(row) } : null;
  }

  /** Extends a lease we hold. */
  async renew(thread: string): Promise<void> {
    await this.pool.query(statement(this.pool, 'lease_renew',
      `UPDATE thread_leases SET expires_at = now() + $3 * interval '1 millisecond' WHERE thread = $1 AND owner = $2`,
      [thread, this.owner, this.ttlMs],
    ));
  }

  async release(thread: string, clean: boolean): Promise<void> {
    await this.pool.query(statement(this.pool, 'lease_release', `${releaseSql('$3')} WHERE thread = $1 AND owner = $2`, [thread, this.owner, clean]));
  }

  /**
   * Runs `fn` holding the lease (renewed while it runs); `ran: false` when another process holds it.
   * `fn` says whether it leaves the thread clean; `end` lets the caller release the lease in a
   * statement of its own (see releaseSql), else it is released here.
   */
  async withLease(
    thread: string,
    fn: (opening: ThreadOpening) => Promise<boolean>,
    end?: (clean: boolean, owner: string) => Promise<void>,
  ): Promise<{ ran: boolean }> {
    const opening = await this.tryAcquire(thread);
    if (!opening) return { ran: false };
    const renew = setInterval(() => void this.renew(thread).catch(() => {}), Math.max(1000, this.ttlMs / 3));
    renew.unref();
    let clean: boolean;
    try {
      clean = await fn(opening);
    } catch (err) {
      clearInterval(renew);
      await this.release(thread, false);
      throw err;
    }
    clearInterval(renew);
    if (end) await end(clean, this.owner);
    else await this.release(thread, clean);
    return { ran: true };
  }
}

/** Ends a lease; `clean` names the parameter saying whether the thread is left clean. The caller adds `WHERE thread = .. AND owner = ..`. */
export const releaseSql = (clean: string) => `UPDATE thread_leases SET expires_at = now() - interval '1 second', clean = ${clean}`;
