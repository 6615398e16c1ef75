import type pg from 'pg';
import type { Envelope } from '../../core/chat/types.js';
import { statement } from '../../core/db/statements.js';
import { latestCheckpointSql, type CheckpointRow } from '../checkpoint/pg-saver.js';

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

/** A graph run, recorded when the drain ends (with the inbound messages it answered). */
interface RunRecord {
  id: string;
  inbound: string | null;
  status: 'done' | 'failed';
  startedAt: Date;
  finishedAt: Date;
  error: string | null;
}

/**
 * How a turn ended for the inbound messages it answered (`inbound_messages.status`): done; failed,
 * with what the chat was told (`error`); or paused on an approval, marked again when the run
 * resumes. A schedule's turn reads its outcome here (orchestrator/schedules/).
 */
export type InboundOutcome = { status: 'done' } | { status: 'failed'; error: string } | { status: 'paused' };

/** What a drain has done and not yet written: written in one statement, with the lease's release at the end. */
export interface Finish {
  runs: RunRecord[];
  /** Inbound messages answered. */
  done: string[];
  /** How the turn ended for those of `done` that are not simply done (the last word for a message wins). */
  outcomes?: Map<string, InboundOutcome>;
}

/** Marks `ids` answered, as `outcome` says. */
export function answered(finish: Finish, ids: readonly string[], outcome: InboundOutcome = { status: 'done' }): void {
  finish.done.push(...ids);
  if (outcome.status === 'done' && !finish.outcomes) return;
  finish.outcomes ??= new Map();
  for (const id of ids) finish.outcomes.set(id, outcome);
}

/**
 * A statement whose parameters have names. The `$n` are numbered here, once, in the order of
 * `names`, and every fragment composed into the text (the checkpointer's latest-checkpoint read,
 * the pending messages, the lease's release) is handed the reference it needs, never a number.
 */
function named<const K extends string>(name: string, names: readonly K[], text: (p: Record<K, string>) => string) {
  const refs = Object.fromEntries(names.map((k, i) => [k, `$${i + 1}`])) as Record<K, string>;
  const sql = text(refs);
  return (pool: pg.Pool, args: Record<K, unknown>): pg.QueryConfig =>
    statement(
      pool,
      name,
      sql,
      names.map((k) => args[k]),
    );
}

/** The thread's unanswered messages as one JSON array (a column of the opening statements). */
const pendingJson = (thread: string) => `(SELECT coalesce(json_agg(json_build_object('id', id, 'status', status, 'payload', payload) ORDER BY received_at, id), '[]'::json)
   FROM inbound_messages WHERE conversation = ${thread} AND status IN ('pending', 'processing', 'held'))`;
/** The thread's latest checkpoint as columns `cp.*`; a thread with none was never run and has nothing to resume. */
const latest = (thread: string) => `LEFT JOIN LATERAL (${latestCheckpointSql(thread)}) cp ON true`;
const NEVER_RUN = `cp.checkpoint_id IS NULL`;
/** Ends a lease, saying whether the thread is left clean; the caller adds which lease. */
const release = (clean: string) => `UPDATE thread_leases SET expires_at = now() - interval '1 second', clean = ${clean}`;

const PENDING = named('inbound_pending', ['thread'], (p) => `SELECT ${pendingJson(p.thread)} AS pending`);

const OPEN = named('thread_open', ['thread'], (p) => `SELECT ${NEVER_RUN} AS clean, ${pendingJson(p.thread)} AS pending, cp.* FROM (SELECT 1) one ${latest(p.thread)}`);

/** The lease taken when free, expired or already ours; `clean` as the last holder left it (a thread never leased: never run). */
const TAKE = named(
  'lease_open',
  ['thread', 'owner', 'ttlMs'],
  (p) =>
    `WITH before AS (SELECT clean FROM thread_leases WHERE thread = ${p.thread}),
       taken AS (
         INSERT INTO thread_leases (thread, owner, expires_at, clean) VALUES (${p.thread}, ${p.owner}, now() + ${p.ttlMs} * interval '1 millisecond', false)
         ON CONFLICT (thread) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at, clean = false
         WHERE thread_leases.expires_at < now() OR thread_leases.owner = EXCLUDED.owner
         RETURNING 1)
       SELECT coalesce((SELECT clean FROM before), ${NEVER_RUN}) AS clean, ${pendingJson(p.thread)} AS pending, cp.* FROM taken ${latest(p.thread)}`,
);

const RENEW = named(
  'lease_renew',
  ['thread', 'owner', 'ttlMs'],
  (p) => `UPDATE thread_leases SET expires_at = now() + ${p.ttlMs} * interval '1 millisecond' WHERE thread = ${p.thread} AND owner = ${p.owner}`,
);

const RELEASE = named('lease_release', ['thread', 'owner', 'clean'], (p) => `${release(p.clean)} WHERE thread = ${p.thread} AND owner = ${p.owner}`);

const FINISH_PARAMS = ['done', 'doneStatus', 'doneError', 'thread', 'runIds', 'inbound', 'status', 'started', 'finished', 'error'] as const;
type FinishParam = (typeof FINISH_PARAMS)[number];
const marked = (p: Record<FinishParam, string>) => `finished AS (UPDATE inbound_messages i SET status = a.status, error = a.error, processed_at = now()
     FROM unnest(${p.done}::text[], ${p.doneStatus}::text[], ${p.doneError}::text[]) AS a(id, status, error) WHERE i.id = a.id)`;
const record = (p: Record<FinishParam, string>) => `INSERT INTO runs (id, conversation, persona, inbound_id, status, started_at, finished_at, error)
     SELECT r.id, ${p.thread}, 'team', r.inbound, r.status, r.started, r.finished, r.error
     FROM unnest(${p.runIds}::text[], ${p.inbound}::text[], ${p.status}::text[], ${p.started}::timestamptz[], ${p.finished}::timestamptz[], ${p.error}::text[]) AS r(id, inbound, status, started, finished, error)`;

/**
 * Retention of the thread's graph: what resuming needs is its latest checkpoint (per namespace) and
 * that checkpoint's writes (a paused approval's interrupt, the results of its finished tool calls);
 * the checkpoints before it, and their writes, go as the drain ends. (Checkpoint ids sort by time.)
 */
const superseded = (table: string, thread: string) =>
  `DELETE FROM ${table} o WHERE o.thread_id = ${thread} AND o.checkpoint_id < (SELECT max(m.checkpoint_id) FROM graph_checkpoints m WHERE m.thread_id = o.thread_id AND m.checkpoint_ns = o.checkpoint_ns)`;
const pruned = (p: Record<FinishParam, string>) => `old_writes AS (${superseded('graph_writes', p.thread)}), old_checkpoints AS (${superseded('graph_checkpoints', p.thread)})`;

const FINISH = named('drain_finish', FINISH_PARAMS, (p) => `WITH ${marked(p)}, ${pruned(p)} ${record(p)}`);
const FINISH_RELEASE = named(
  'drain_finish_release',
  [...FINISH_PARAMS, 'owner', 'clean'],
  (p) => `WITH ${marked(p)}, ${pruned(p)}, released AS (${release(p.clean)} WHERE thread = ${p.thread} AND owner = ${p.owner}) ${record(p)}`,
);

const HOLD = named('inbound_hold', ['id'], (p) => `UPDATE inbound_messages SET status = 'held' WHERE id = ${p.id}`);

type OpeningRow = CheckpointRow & { clean: boolean; pending: PendingRow[] };
const latestOf = (row: OpeningRow): CheckpointRow | null => {
  if (row.checkpoint_id === null) return null;
  const { clean: _clean, pending: _pending, ...checkpoint } = row;
  return checkpoint;
};

/**
 * Every statement a drain sends about its thread, in the order of a message's trip: opening the
 * thread (taking its lease when processes share the work) with what waits in it and its latest
 * checkpoint, reading again what waits, holding a message behind an approval, and finishing: the
 * runs, the messages answered and the lease's release in one statement.
 */
export class ThreadSql {
  constructor(private readonly pool: pg.Pool) {}

  /** In a process that is the only one running turns (no leases): whether the thread was never run, and what waits in it. */
  async open(thread: string): Promise<{ neverRun: boolean; pending: PendingRow[]; latest: CheckpointRow | null }> {
    const { rows } = await this.pool.query<OpeningRow>(OPEN(this.pool, { thread }));
    const row = rows[0]!;
    return { neverRun: row.clean, pending: row.pending, latest: latestOf(row) };
  }

  /** Takes the thread's lease when it is free, expired or already ours, reading what waits in the same statement; null when another holds it. */
  async take(thread: string, owner: string, ttlMs: number): Promise<ThreadOpening | null> {
    const { rows } = await this.pool.query<OpeningRow>(TAKE(this.pool, { thread, owner, ttlMs }));
    const row = rows[0];
    return row ? { clean: row.clean, pending: row.pending, latest: latestOf(row) } : null;
  }

  async renew(thread: string, owner: string, ttlMs: number): Promise<void> {
    await this.pool.query(RENEW(this.pool, { thread, owner, ttlMs }));
  }

  async release(thread: string, owner: string, clean: boolean): Promise<void> {
    await this.pool.query(RELEASE(this.pool, { thread, owner, clean }));
  }

  /** The thread's unanswered inbound messages, oldest first. */
  async pending(thread: string): Promise<PendingRow[]> {
    const { rows } = await this.pool.query<{ pending: PendingRow[] }>(PENDING(this.pool, { thread }));
    return rows[0]!.pending;
  }

  /** A message that waits while the thread is paused on an approval. */
  async hold(id: string): Promise<void> {
    await this.pool.query(HOLD(this.pool, { id }));
  }

  /**
   * Records the drain's runs and marks the messages it answered, and releases the thread's lease
   * when one is held, in one statement; `finish` is emptied. Until it is written, a crash leaves the
   * messages pending: the next drain finds them answered in the checkpoint and only marks them.
   * With nothing to write and no lease, no statement.
   */
  async finish(thread: string, finish: Finish, lease?: { owner: string; clean: boolean }): Promise<void> {
    const { runs, done, outcomes } = finish;
    if (!runs.length && !done.length && !lease) return;
    finish.runs = [];
    finish.done = [];
    finish.outcomes = undefined;
    const ids = [...new Set(done)];
    const marks = ids.map((id) => outcomes?.get(id) ?? ({ status: 'done' } as const));
    const args = {
      done: ids,
      doneStatus: marks.map((m) => m.status),
      doneError: marks.map((m) => (m.status === 'failed' ? m.error.slice(0, 2000) : null)),
      thread,
      runIds: runs.map((r) => r.id),
      inbound: runs.map((r) => r.inbound),
      status: runs.map((r) => r.status),
      started: runs.map((r) => r.startedAt.toISOString()),
      finished: runs.map((r) => r.finishedAt.toISOString()),
      error: runs.map((r) => r.error),
    };
    await this.pool.query(lease ? FINISH_RELEASE(this.pool, { ...args, ...lease }) : FINISH(this.pool, args));
  }
}
