import type pg from 'pg';
import type { RunnableConfig } from '@langchain/core/runnables';
import {
  BaseCheckpointSaver, WRITES_IDX_MAP, compareWritesSortKeys, copyCheckpoint, getCheckpointId, writesSortKey,
  type Checkpoint, type CheckpointListOptions, type CheckpointMetadata, type CheckpointPendingWrite,
  type CheckpointTuple, type PendingWrite, type SerializerProtocol,
} from '@langchain/langgraph-checkpoint';

interface CheckpointRow {
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

/** The checkpoint's pending writes, fetched with it in the same statement. */
const WITH_WRITES = `SELECT c.*, w.writes FROM (%CHECKPOINT%) c LEFT JOIN LATERAL (
  SELECT json_agg(json_build_object('task_id', task_id, 'idx', idx, 'task_path', task_path, 'channel', channel, 'type', type, 'value', encode(value, 'base64'))) AS writes
  FROM graph_writes w WHERE w.thread_id = c.thread_id AND w.checkpoint_ns = c.checkpoint_ns AND w.checkpoint_id = c.checkpoint_id) w ON true`;

/**
 * LangGraph's checkpoints in Postgres, compact: a checkpoint is ONE row (serialised whole, as
 * MemorySaver keeps it) and a task's writes ONE multi-row insert, so a graph step costs one or two
 * statements and no transaction. The official PostgresSaver splits each checkpoint into a blob per
 * channel inside a transaction: about 90 statements for a persona's turn where this needs about 20,
 * which matters on the embedded database (one connection) and under load.
 * Works on PGlite and on any Postgres; keyed by thread id, namespace (subgraphs) and checkpoint id.
 */
export class PgCheckpointSaver extends BaseCheckpointSaver {
  constructor(private readonly pool: pg.Pool, serde?: SerializerProtocol) {
    super(serde);
  }

  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const threadId = config.configurable?.thread_id as string | undefined;
    if (threadId === undefined) return undefined;
    const ns = (config.configurable?.checkpoint_ns as string | undefined) ?? '';
    const id = getCheckpointId(config);
    const { rows } = id
      ? await this.pool.query<CheckpointRow>(WITH_WRITES.replace('%CHECKPOINT%', `SELECT ${COLUMNS} FROM graph_checkpoints WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = $3`), [threadId, ns, id])
      : await this.pool.query<CheckpointRow>(WITH_WRITES.replace('%CHECKPOINT%', `SELECT ${COLUMNS} FROM graph_checkpoints WHERE thread_id = $1 AND checkpoint_ns = $2 ORDER BY checkpoint_id DESC LIMIT 1`), [threadId, ns]);
    return rows[0] ? this.toTuple(rows[0]) : undefined;
  }

  async *list(config: RunnableConfig, options: CheckpointListOptions = {}): AsyncGenerator<CheckpointTuple> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => { params.push(value); where.push(sql.replace('?', `$${params.length}`)); };
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
    const ns = (config.configurable?.checkpoint_ns as string | undefined) ?? '';
    const [[type, data], [metadataType, metadataData]] = await Promise.all([
      this.serde.dumpsTyped(copyCheckpoint(checkpoint)),
      this.serde.dumpsTyped(metadata),
    ]);
    await this.pool.query(
      `INSERT INTO graph_checkpoints (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET type = EXCLUDED.type, checkpoint = EXCLUDED.checkpoint,
         metadata_type = EXCLUDED.metadata_type, metadata = EXCLUDED.metadata`,
      [threadId, ns, checkpoint.id, (config.configurable?.checkpoint_id as string | undefined) ?? null, type, Buffer.from(data), metadataType, Buffer.from(metadataData)],
    );
    return { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: checkpoint.id } };
  }

  async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath?: string): Promise<void> {
    const threadId = config.configurable?.thread_id as string | undefined;
    const checkpointId = config.configurable?.checkpoint_id as string | undefined;
    if (threadId === undefined || checkpointId === undefined) throw new Error('cannot save writes without configurable.thread_id and checkpoint_id');
    if (!writes.length) return;
    const ns = (config.configurable?.checkpoint_ns as string | undefined) ?? '';
    const values: string[] = [];
    const params: unknown[] = [];
    // One row per (task, idx): a later special write (same negative idx) replaces an earlier one.
    const byIdx = new Map<number, PendingWrite>();
    for (const [i, write] of writes.entries()) byIdx.set(WRITES_IDX_MAP[write[0]] ?? i, write);
    for (const [idx, [channel, value]] of byIdx) {
      const [type, data] = await this.serde.dumpsTyped(value);
      const base = params.length;
      params.push(threadId, ns, checkpointId, taskId, idx, taskPath ?? '', channel, type, Buffer.from(data));
      values.push(`(${Array.from({ length: 9 }, (_, k) => `$${base + k + 1}`).join(', ')})`);
    }
    // Regular writes are kept once (a re-run task writes the same); special ones (errors,
    // interrupts: negative idx) are replaced by the latest.
    await this.pool.query(
      `INSERT INTO graph_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, task_path, channel, type, value)
       VALUES ${values.join(', ')}
       ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO UPDATE
         SET channel = EXCLUDED.channel, type = EXCLUDED.type, value = EXCLUDED.value, task_path = EXCLUDED.task_path
         WHERE EXCLUDED.idx < 0`,
      params,
    );
  }

  async deleteThread(threadId: string): Promise<void> {
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
      ...(row.parent_checkpoint_id
        ? { parentConfig: { configurable: { ...configurable, checkpoint_id: row.parent_checkpoint_id } } }
        : {}),
    };
  }

  private async pendingWrites(row: CheckpointRow): Promise<CheckpointPendingWrite[]> {
    const writes = [...(row.writes ?? [])];
    writes.sort((a, b) => compareWritesSortKeys(writesSortKey(a.task_path, a.task_id, a.idx), writesSortKey(b.task_path, b.task_id, b.idx)));
    return Promise.all(writes.map(async (w) => [w.task_id, w.channel, await this.serde.loadsTyped(w.type, new Uint8Array(Buffer.from(w.value, 'base64')))] as CheckpointPendingWrite));
  }
}
