import type pg from 'pg';
import type { RunnableConfig } from '@langchain/core/runnables';
import {
  BaseCheckpointSaver,
  WRITES_IDX_MAP,
  compareWritesSortKeys,
  copyCheckpoint,
  getCheckpointId,
  writesSortKey,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointPendingWrite,
  type CheckpointTuple,
  type PendingWrite,
  type SerializerProtocol,
} from '@langchain/langgraph-checkpoint';
import { statement } from '../../core/db/statements.js';

export interface CheckpointRow {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
  parent_checkpoint_id: string | null;
  type: string;
  checkpoint: Buffer;
  metadata_type: string;
  metadata: Buffer;
  writes?: WriteRow[] | null;
}

interface WriteRow {
  task_id: string;
  idx: number;
  task_path: string;
  channel: string;
  type: string;
  /** base64 */
  value: string;
}

const COLUMNS = 'thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata_type, metadata';
const WRITE_COLUMNS = 'thread_id, checkpoint_ns, checkpoint_id, task_id, idx, task_path, channel, type, value';

type CheckpointParams = [string, string, string, string | null, string, Buffer, string, Buffer];
type WriteParams = [string, string, string, string, number, string, string, string, Buffer];
interface BatchItem {
  checkpoint?: CheckpointParams;
  writes?: WriteParams[];
}

/**
 * Every batch is this one statement (columns as arrays), so Postgres can keep it prepared. A
 * checkpoint saved again replaces itself; a regular write is kept once (a re-run task writes the
 * same), a special one (errors, interrupts: negative idx) is replaced by the latest.
 */
const SAVE = `WITH saved_checkpoints AS (
  INSERT INTO graph_checkpoints (${COLUMNS})
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::text[], $8::bytea[])
  ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE
    SET type = EXCLUDED.type, checkpoint = EXCLUDED.checkpoint, metadata_type = EXCLUDED.metadata_type, metadata = EXCLUDED.metadata
  RETURNING 1
)
INSERT INTO graph_writes (${WRITE_COLUMNS})
SELECT * FROM unnest($9::text[], $10::text[], $11::text[], $12::text[], $13::int[], $14::text[], $15::text[], $16::text[], $17::bytea[])
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO UPDATE
  SET channel = EXCLUDED.channel, type = EXCLUDED.type, value = EXCLUDED.value, task_path = EXCLUDED.task_path
  WHERE EXCLUDED.idx < 0`;
/** Saves per statement at most (a batch larger than this is split). */
const MAX_BATCH = 200;

/**
 * Coalesces the saves that arrive together into one statement. LangGraph issues a step's task
 * writes and its checkpoint without waiting for each other, and only waits for all of them
 * (durability `sync`) before the next step; with many conversations running, their steps' saves
 * arrive together too. Everything issued in one turn of the event loop goes out as a single
 * statement (one round trip, one commit) and every caller's promise settles when it is
 * committed, so a step still starts only after its predecessor is saved. If a batch fails,
 * each save is retried on its own, so an error reaches the caller it belongs to.
 */
class WriteBatcher {
  private queue: Array<{ item: BatchItem; resolve: () => void; reject: (err: unknown) => void }> = [];
  private scheduled = false;

  constructor(private readonly pool: pg.Pool) {}

  add(item: BatchItem): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.queue;
    this.queue = [];
    for (let start = 0; start < all.length; start += MAX_BATCH) {
      const group = all.slice(start, start + MAX_BATCH);
      void this.write(group.map((g) => g.item)).then(
        () => {
          for (const g of group) g.resolve();
        },
        async (err: unknown) => {
          if (group.length === 1) return group[0]!.reject(err);
          for (const g of group) await this.write([g.item]).then(g.resolve, g.reject);
        },
      );
    }
  }

  private async write(items: BatchItem[]): Promise<void> {
    // Within one statement a key may be upserted once: keep what sequential upserts would leave.
    const checkpoints = new Map<string, CheckpointParams>();
    const writes = new Map<string, WriteParams>();
    for (const { checkpoint, writes: rows } of items) {
      if (checkpoint) checkpoints.set(JSON.stringify(checkpoint.slice(0, 3)), checkpoint);
      for (const row of rows ?? []) {
        const key = JSON.stringify(row.slice(0, 5));
        if (!writes.has(key) || row[4] < 0) writes.set(key, row);
      }
    }
    const cols = <T extends unknown[]>(rows: T[], n: number) => Array.from({ length: n }, (_, k) => rows.map((r) => r[k]));
    await this.pool.query(statement(this.pool, 'checkpoint_save', SAVE, [...cols([...checkpoints.values()], 8), ...cols([...writes.values()], 9)]));
  }
}

/** The checkpoint's pending writes, fetched with it in the same statement. */
const WITH_WRITES = `SELECT c.*, w.writes FROM (%CHECKPOINT%) c LEFT JOIN LATERAL (
  SELECT json_agg(json_build_object('task_id', task_id, 'idx', idx, 'task_path', task_path, 'channel', channel, 'type', type, 'value', encode(value, 'base64'))) AS writes
  FROM graph_writes w WHERE w.thread_id = c.thread_id AND w.checkpoint_ns = c.checkpoint_ns AND w.checkpoint_id = c.checkpoint_id) w ON true`;

const CHECKPOINT_BY_ID = WITH_WRITES.replace('%CHECKPOINT%', `SELECT ${COLUMNS} FROM graph_checkpoints WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = $3`);
const CHECKPOINT_LATEST = WITH_WRITES.replace('%CHECKPOINT%', `SELECT ${COLUMNS} FROM graph_checkpoints WHERE thread_id = $1 AND checkpoint_ns = $2 ORDER BY checkpoint_id DESC LIMIT 1`);

/**
 * A thread's latest checkpoint (root namespace) with its writes, for other statements to read in
 * passing: `LEFT JOIN LATERAL (${latestCheckpointSql(thread)}) cp ON true`, `thread` being the
 * caller's reference to its thread-id parameter (orchestrator/turn/thread-sql.ts), adds a
 * CheckpointRow's columns (all null when the thread has none), to hand to `PgCheckpointSaver.prime`.
 */
export const latestCheckpointSql = (threadParam: string) =>
  WITH_WRITES.replace('%CHECKPOINT%', `SELECT ${COLUMNS} FROM graph_checkpoints WHERE thread_id = ${threadParam} AND checkpoint_ns = '' ORDER BY checkpoint_id DESC LIMIT 1`);

/**
 * LangGraph's checkpoints in Postgres, compact: a checkpoint is ONE row (serialised whole, as
 * MemorySaver keeps it) and a task's writes ONE multi-row insert, so a graph step costs one or two
 * statements and no transaction. The official PostgresSaver splits each checkpoint into a blob per
 * channel inside a transaction: about 90 statements for a persona's turn where this needs about 20,
 * which matters on the embedded database (one connection) and under load.
 * Works on PGlite and on any Postgres; keyed by thread id, namespace (subgraphs) and checkpoint id.
 */
export class PgCheckpointSaver extends BaseCheckpointSaver {
  private readonly batch: WriteBatcher;
  /** Latest checkpoints read in passing by a caller holding the thread (see prime). */
  private readonly primed = new Map<string, CheckpointRow | null>();

  constructor(
    private readonly pool: pg.Pool,
    serde?: SerializerProtocol,
  ) {
    super(serde);
    this.batch = new WriteBatcher(pool);
  }

  /**
   * The latest checkpoint of a thread as the caller just read it (a row of latestCheckpointSql, or
   * null: none), while it holds the thread so nobody else writes it: reads of the latest checkpoint
   * are answered from it, without a statement, until the thread is saved again or forgotten.
   */
  prime(threadId: string, row: CheckpointRow | null): void {
    this.primed.set(threadId, row && row.checkpoint_id !== null ? row : null);
  }

  forget(threadId: string): void {
    this.primed.delete(threadId);
  }

  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const threadId = config.configurable?.thread_id as string | undefined;
    if (threadId === undefined) return undefined;
    const ns = (config.configurable?.checkpoint_ns as string | undefined) ?? '';
    const id = getCheckpointId(config);
    if (!id && ns === '' && this.primed.has(threadId)) {
      const row = this.primed.get(threadId);
      return row ? this.toTuple(row) : undefined;
    }
    const { rows } = id
      ? await this.pool.query<CheckpointRow>(statement(this.pool, 'checkpoint_by_id', CHECKPOINT_BY_ID, [threadId, ns, id]))
      : await this.pool.query<CheckpointRow>(statement(this.pool, 'checkpoint_latest', CHECKPOINT_LATEST, [threadId, ns]));
    return rows[0] ? this.toTuple(rows[0]) : undefined;
  }

  async *list(config: RunnableConfig, options: CheckpointListOptions = {}): AsyncGenerator<CheckpointTuple> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (config.configurable?.thread_id !== undefined) add('thread_id = ?', config.configurable.thread_id);
    if (config.configurable?.checkpoint_ns !== undefined) add('checkpoint_ns = ?', config.configurable.checkpoint_ns);
    if (config.configurable?.checkpoint_id) add('checkpoint_id = ?', config.configurable.checkpoint_id);
    const before = options.before?.configurable?.checkpoint_id;
    if (before) add('checkpoint_id < ?', before);
    const sql = WITH_WRITES.replace('%CHECKPOINT%', `SELECT ${COLUMNS} FROM graph_checkpoints ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`) + ' ORDER BY c.checkpoint_id DESC';
    const { rows } = await this.pool.query<CheckpointRow>(sql, params);
    let remaining = options.limit;
    for (const row of rows) {
      const tuple = await this.toTuple(row);
      const metadata = (tuple.metadata ?? {}) as Record<string, unknown>;
      if (options.filter && !Object.entries(options.filter).every(([k, v]) => metadata[k] === v)) continue;
      if (remaining !== undefined && remaining-- <= 0) break;
      yield tuple;
    }
  }

  async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata): Promise<RunnableConfig> {
    const threadId = config.configurable?.thread_id as string | undefined;
    if (threadId === undefined) throw new Error('cannot save a checkpoint without configurable.thread_id');
    this.primed.delete(threadId);
    const ns = (config.configurable?.checkpoint_ns as string | undefined) ?? '';
    const [[type, data], [metadataType, metadataData]] = await Promise.all([this.serde.dumpsTyped(copyCheckpoint(checkpoint)), this.serde.dumpsTyped(metadata)]);
    await this.batch.add({
      checkpoint: [threadId, ns, checkpoint.id, (config.configurable?.checkpoint_id as string | undefined) ?? null, type, Buffer.from(data), metadataType, Buffer.from(metadataData)],
    });
    return { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: checkpoint.id } };
  }

  async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath?: string): Promise<void> {
    const threadId = config.configurable?.thread_id as string | undefined;
    const checkpointId = config.configurable?.checkpoint_id as string | undefined;
    if (threadId === undefined || checkpointId === undefined) throw new Error('cannot save writes without configurable.thread_id and checkpoint_id');
    this.primed.delete(threadId);
    if (!writes.length) return;
    const ns = (config.configurable?.checkpoint_ns as string | undefined) ?? '';
    // One row per (task, idx): a later special write (same negative idx) replaces an earlier one.
    const byIdx = new Map<number, PendingWrite>();
    for (const [i, write] of writes.entries()) byIdx.set(WRITES_IDX_MAP[write[0]] ?? i, write);
    const rows: WriteParams[] = [];
    for (const [idx, [channel, value]] of byIdx) {
      const [type, data] = await this.serde.dumpsTyped(value);
      rows.push([threadId, ns, checkpointId, taskId, idx, taskPath ?? '', channel, type, Buffer.from(data)]);
    }
    await this.batch.add({ writes: rows });
  }

  async deleteThread(threadId: string): Promise<void> {
    this.primed.delete(threadId);
    await this.pool.query('DELETE FROM graph_writes WHERE thread_id = $1', [threadId]);
    await this.pool.query('DELETE FROM graph_checkpoints WHERE thread_id = $1', [threadId]);
  }

  private async toTuple(row: CheckpointRow): Promise<CheckpointTuple> {
    const [checkpoint, metadata, pendingWrites] = await Promise.all([
      this.serde.loadsTyped(row.type, new Uint8Array(row.checkpoint)) as Promise<Checkpoint>,
      this.serde.loadsTyped(row.metadata_type, new Uint8Array(row.metadata)) as Promise<CheckpointMetadata>,
      this.pendingWrites(row),
    ]);
    const configurable = { thread_id: row.thread_id, checkpoint_ns: row.checkpoint_ns, checkpoint_id: row.checkpoint_id };
    return {
      config: { configurable },
      checkpoint,
      metadata,
      pendingWrites,
      ...(row.parent_checkpoint_id ? { parentConfig: { configurable: { ...configurable, checkpoint_id: row.parent_checkpoint_id } } } : {}),
    };
  }

  private async pendingWrites(row: CheckpointRow): Promise<CheckpointPendingWrite[]> {
    const writes = [...(row.writes ?? [])];
    writes.sort((a, b) => compareWritesSortKeys(writesSortKey(a.task_path, a.task_id, a.idx), writesSortKey(b.task_path, b.task_id, b.idx)));
    return Promise.all(writes.map(async (w) => [w.task_id, w.channel, await this.serde.loadsTyped(w.type, new Uint8Array(Buffer.from(w.value, 'base64')))] as CheckpointPendingWrite));
  }
}
