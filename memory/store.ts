import type pg from 'pg';
import { createLogger, type Logger } from '../core/log.js';
import { MemoryImportError, MemoryUnavailableError } from './errors.js';
import { HYBRID_RECALL_SQL, candidateCount } from './hybrid-search.js';
import { isMemoryScope, newMemoryId, parseJsonlLine, toJsonlLine } from './jsonl.js';
import { reembedAll } from './reembed.js';
import { MEMORY_COLUMNS, MEMORY_FROM, MEMORY_SELECT, toMemory, vectorLiteral, type MemoryRow, type StoredInput } from './rows.js';
import { HNSW_INDEX, columnDimension, createHnswIndex, ensurePgvector, readMeta, recreateEmbeddingColumn, writeMeta, type EmbedderIdentity, type VectorSupport } from './schema.js';
import { EmbedderMismatchError, MEMORY_KINDS, type Embedder, type Memory, type MemoryKind, type MemoryScope, type NewMemory, type RecallHit, type RecallQuery } from './types.js';

export interface MemoryStoreOptions {
  /** Recency weighting: a memory unused for this many days weighs 0.975, then towards 0.95 (default 30). */
  recencyHalfLifeDays?: number;
  logger?: Logger;
}

export interface MemoryStatus {
  /** The embedder the stored vectors came from; null before anything was recorded. */
  embedder: EmbedderIdentity | null;
  current: EmbedderIdentity;
  /** True when they differ: recall refuses until `pantheon memory reembed`. */
  mismatch: boolean;
  counts: { total: number; archived: number; byScope: Record<string, number>; byKind: Record<string, number> };
}

export interface ListOptions {
  /** Default: every scope (for operators; personas' reads go through recall with their scopes). */
  scopes?: MemoryScope[];
  kinds?: MemoryKind[];
  includeArchived?: boolean;
  limit?: number;
  offset?: number;
}

/** HNSW candidate list size while searching: above the candidates we ask for, for recall@10 ≥ 0.95. */
const EF_SEARCH = 160;
/** How long a server found without pgvector is taken at its word before it is asked again. */
const UNAVAILABLE_RECHECK_MS = 60_000;
/** Use marks wait at most this long, or until this many memories are pending, before they are written. */
const USE_FLUSH_MS = 1000;
const USE_FLUSH_MAX = 1000;
/** Marks a pooled connection whose search settings are made. */
const SEARCH_READY = Symbol('pantheon.memory.searchReady');
const INSERT_BATCH = 500;
const IMPORT_BATCH = 200;
const BULK_MIN = 2000;
/** An import up to this size (in characters) is read whole and stored in one transaction; a larger one is streamed. */
const IMPORT_BUFFER_CHARS = 4 * 1024 * 1024;
/**
 * The content one insert statement carries at most (a memory larger than this goes alone). On
 * its way to the database a statement is copied several times over (pg's message buffer, the
 * socket, and with PGlite its socket server's reassembly and the copy into Postgres), and the
 * copies are freed only by a later GC: small statements keep that garbage small. With the
 * embedded database a statement also runs on this thread, so a statement of huge memories must
 * still be short.
 */
const STATEMENT_CHARS = 256 * 1024;
/** Refused lines an import names (the rest are counted). */
const MAX_IMPORT_PROBLEMS = 1000;

/**
 * The team's memory in Postgres: rows in `memories`, vectors in its pgvector column (HNSW,
 * cosine), full text in a GIN index, recall fusing both. Works the same on the embedded PGlite
 * and on a Postgres with pgvector. Every method waits for init(), which runs once.
 */
export class MemoryStore {
  private readonly halfLifeDays: number;
  private readonly log: Logger;
  private initialising: Promise<void> | undefined;
  private unavailable: { err: MemoryUnavailableError; until: number } | undefined;
  private stored: EmbedderIdentity | null = null;
  private support: VectorSupport = { version: '', iterativeScan: false };
  private readonly pendingUse = new Map<string, number>();
  private useTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly embedder: Embedder,
    opts: MemoryStoreOptions = {},
  ) {
    this.halfLifeDays = opts.recencyHalfLifeDays ?? 30;
    if (!(this.halfLifeDays > 0)) throw new Error(`memory.recencyHalfLifeDays must be positive, got ${this.halfLifeDays}`);
    this.log = (opts.logger ?? createLogger({ level: 'silent' })).child({ component: 'memory' });
  }

  private get current(): EmbedderIdentity {
    return { name: this.embedder.name, dimension: this.embedder.dimension };
  }

  private get mismatched(): boolean {
    return !this.stored || this.stored.name !== this.embedder.name || this.stored.dimension !== this.embedder.dimension;
  }

  /**
   * Enables pgvector (or throws MemoryUnavailableError saying how to get it) and checks the
   * recorded embedder against ours. An empty store takes ours, vector column included; a store
   * with memories from another embedder is left alone and recall refuses until reembed().
   */
  init(): Promise<void> {
    if (this.unavailable && Date.now() < this.unavailable.until) return Promise.reject(this.unavailable.err);
    this.initialising ??= this.doInit().catch((err: unknown) => {
      this.initialising = undefined; // let a later call try again (the operator may fix the server)
      // A server without pgvector stays that way for a while: answer at once instead of asking it on every turn.
      if (err instanceof MemoryUnavailableError) this.unavailable = { err, until: Date.now() + UNAVAILABLE_RECHECK_MS };
      throw err;
    });
    return this.initialising;
  }

  private async doInit(): Promise<void> {
    await this.transaction(async (client) => {
      this.support = await ensurePgvector(client);
      // Two processes starting together (server and worker) must not both create the column.
      await client.query('LOCK TABLE memory_meta IN EXCLUSIVE MODE');
      const meta = await readMeta(client);
      const columnDim = await columnDimension(client, 'embedding');
      if (meta && meta.name === this.embedder.name && meta.dimension === this.embedder.dimension && columnDim === meta.dimension) {
        this.stored = meta;
        return;
      }
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM memories');
      if (rows[0].n === 0) {
        if (columnDim !== this.embedder.dimension) await recreateEmbeddingColumn(client, this.embedder.dimension);
        else await createHnswIndex(client);
        await writeMeta(client, this.current);
        this.stored = this.current;
        if (meta) this.log.info({ from: meta, to: this.current }, 'memory is empty: switched to the configured embedder');
        return;
      }
      this.stored = meta && columnDim === meta.dimension ? meta : { name: meta?.name ?? 'unknown', dimension: columnDim ?? 0 };
      this.log.warn({ stored: this.stored, current: this.current }, 'memory was embedded with another embedder: recall is refused until `pantheon memory reembed`');
    });
    this.log.info({ pgvector: this.support.version, embedder: this.current, mismatch: this.mismatched }, 'memory store ready');
  }

  async status(): Promise<MemoryStatus> {
    await this.init();
    await this.flush();
    const [totals, scopes, kinds] = await Promise.all([
      this.pool.query<{ total: number; archived: number }>('SELECT count(*)::int AS total, (count(*) FILTER (WHERE archived_at IS NOT NULL))::int AS archived FROM memories'),
      this.pool.query<{ key: string; n: number }>('SELECT scope AS key, count(*)::int AS n FROM memories GROUP BY scope ORDER BY scope'),
      this.pool.query<{ key: string; n: number }>('SELECT kind AS key, count(*)::int AS n FROM memories GROUP BY kind ORDER BY kind'),
    ]);
    const toRecord = (rows: { key: string; n: number }[]) => Object.fromEntries(rows.map((r) => [r.key, r.n]));
    return {
      embedder: this.stored,
      current: this.current,
      mismatch: this.mismatched,
      counts: { total: totals.rows[0].total, archived: totals.rows[0].archived, byScope: toRecord(scopes.rows), byKind: toRecord(kinds.rows) },
    };
  }

  /** Stores a memory; with a dedupeKey already stored, returns that memory and stores nothing. */
  async remember(m: NewMemory): Promise<Memory> {
    await this.ready();
    if (m.dedupeKey) {
      const existing = await this.byDedupeKey(m.dedupeKey);
      if (existing) return existing;
    }
    const [row] = await this.insertBatch([fromNewMemory(m)]);
    if (row) return toMemory(row);
    const raced = m.dedupeKey ? await this.byDedupeKey(m.dedupeKey) : null;
    if (!raced) throw new Error('the memory was not stored (an id collision); try again');
    return raced;
  }

  /** Stores many memories in batches; returns how many were new (dedupe keys already stored are skipped). */
  async rememberMany(ms: NewMemory[]): Promise<number> {
    await this.ready();
    return this.insertMany(ms.map(fromNewMemory));
  }

  /**
   * Inserts in batches. A load that is large next to the table (at least BULK_MIN rows and a
   * quarter of what is stored) runs in one transaction that drops the HNSW index and builds it
   * again at the end: on PGlite one index insert costs ~4 ms while a build costs ~1 ms a row.
   */
  private async insertMany(items: StoredInput[], opts: { atomic?: boolean } = {}): Promise<number> {
    const insertAll = async (db: pg.Pool | pg.PoolClient) => {
      let inserted = 0;
      for (let i = 0; i < items.length; ) {
        const end = batchEnd(items, i, INSERT_BATCH, (it) => it.content);
        inserted += await this.insertCount(items.slice(i, end), db);
        i = end;
      }
      return inserted;
    };
    let bulk = false;
    if (items.length >= BULK_MIN) {
      const { rows } = await this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM memories');
      bulk = items.length * 4 >= rows[0].n;
    }
    if (!bulk && !opts.atomic) return insertAll(this.pool);
    return this.transaction(async (client) => {
      if (bulk) await client.query(`DROP INDEX IF EXISTS ${HNSW_INDEX}`);
      const inserted = await insertAll(client);
      if (bulk) await createHnswIndex(client);
      return inserted;
    });
  }

  /** Hybrid recall (see hybrid-search.ts); marks what it returns as used. Hits carry the counts from before this use. */
  async recall(q: RecallQuery): Promise<RecallHit[]> {
    await this.ready();
    const limit = Math.max(1, Math.min(q.limit ?? 10, 100));
    if (q.scopes.length === 0 || q.text.trim() === '') return [];
    const [vector] = await this.embedder.embed([q.text]);
    if (!vector.some((x) => x !== 0)) return []; // no word at all (punctuation only): nothing to compare
    const { rows } = await this.searchClient(async (client) =>
      client.query<MemoryRow & { score: number }>(HYBRID_RECALL_SQL, [
        vectorLiteral(vector),
        q.scopes,
        q.kinds && q.kinds.length > 0 ? q.kinds : null,
        q.includeArchived ?? false,
        candidateCount(limit),
        q.text,
        limit,
        this.halfLifeDays,
      ]),
    );
    this.markUsed(rows.map((r) => r.id));
    return rows.map((r) => ({ memory: toMemory(r), score: Number(r.score) }));
  }

  /**
   * A connection set up for vector search. Postgres: ef_search (and pgvector 0.8's iterative
   * scan) are set once per connection, so a recall is one statement, not a transaction of four.
   * PGlite shares one session among all connections: the same SET there is harmless (the store
   * is its only user of hnsw.*), and a SET LOCAL elsewhere still wins inside its transaction.
   */
  private async searchClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      const tagged = client as pg.PoolClient & { [SEARCH_READY]?: boolean };
      if (!tagged[SEARCH_READY]) {
        await client.query(`SET hnsw.ef_search = ${EF_SEARCH}` + (this.support.iterativeScan ? '; SET hnsw.iterative_scan = relaxed_order' : ''));
        tagged[SEARCH_READY] = true;
      }
      return await fn(client);
    } finally {
      client.release();
    }
  }

  /**
   * Recall marks what it returns as used (access count, last use). The marks are batched and
   * written shortly after, off the recall's path; every read of use (get, list, export, status,
   * archiving) writes the pending marks first, and so does flush() at shutdown.
   */
  private markUsed(ids: string[]): void {
    if (ids.length === 0) return;
    for (const id of ids) this.pendingUse.set(id, (this.pendingUse.get(id) ?? 0) + 1);
    if (this.pendingUse.size >= USE_FLUSH_MAX) {
      void this.flush().catch(() => {});
      return;
    }
    this.useTimer ??= setTimeout(() => {
      this.useTimer = undefined;
      void this.flush().catch(() => {});
    }, USE_FLUSH_MS);
    this.useTimer.unref?.();
  }

  /** Writes the pending use marks now (memories forgotten meanwhile are skipped). */
  async flush(): Promise<void> {
    if (this.useTimer) {
      clearTimeout(this.useTimer);
      this.useTimer = undefined;
    }
    if (this.pendingUse.size === 0) return this.flushing;
    const batch = [...this.pendingUse];
    this.pendingUse.clear();
    const write = this.flushing
      .then(() =>
        this.pool.query(
          `INSERT INTO memory_access (memory_id, accessed_at, access_count)
         SELECT u.id, now(), u.n FROM unnest($1::text[], $2::int[]) AS u(id, n) JOIN memories m ON m.id = u.id
         ON CONFLICT (memory_id) DO UPDATE SET accessed_at = now(), access_count = memory_access.access_count + excluded.access_count`,
          [batch.map(([id]) => id), batch.map(([, n]) => n)],
        ),
      )
      .then(
        () => {},
        (err: unknown) => this.log.warn({ err: (err as Error).message, memories: batch.length }, 'could not record memory use'),
      );
    this.flushing = write;
    return write;
  }

  async get(id: string): Promise<Memory | null> {
    await this.init();
    await this.flush();
    const { rows } = await this.pool.query<MemoryRow>(`SELECT ${MEMORY_SELECT} FROM ${MEMORY_FROM} WHERE m.id = $1`, [id]);
    return rows[0] ? toMemory(rows[0]) : null;
  }

  /** Newest first; expired memories are left out, archived ones unless asked for. */
  async list(opts: ListOptions = {}): Promise<Memory[]> {
    await this.init();
    await this.flush();
    const { rows } = await this.pool.query<MemoryRow>(
      `SELECT ${MEMORY_SELECT} FROM ${MEMORY_FROM}
        WHERE ($1::text[] IS NULL OR m.scope = ANY($1::text[]))
          AND ($2::text[] IS NULL OR m.kind = ANY($2::text[]))
          AND ($3::boolean OR m.archived_at IS NULL)
          AND (m.expires_at IS NULL OR m.expires_at > now())
        ORDER BY m.created_at DESC, m.id DESC LIMIT $4 OFFSET $5`,
      [opts.scopes ?? null, opts.kinds && opts.kinds.length > 0 ? opts.kinds : null, opts.includeArchived ?? false, opts.limit ?? 50, opts.offset ?? 0],
    );
    return rows.map(toMemory);
  }

  /** Deletes for real: the row, and with it its vector and full-text index entries. */
  async forget(id: string): Promise<boolean> {
    await this.init();
    return ((await this.pool.query('DELETE FROM memories WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  /** Archives (keeps, hides from recall) memories not used for `olderThanDays`; returns how many. */
  async archiveUnused(olderThanDays: number): Promise<number> {
    await this.init();
    await this.flush();
    if (!(olderThanDays >= 0)) throw new Error(`archiveUnused needs a number of days ≥ 0, got ${olderThanDays}`);
    const res = await this.pool.query(
      `UPDATE memories m SET archived_at = now()
        WHERE m.archived_at IS NULL
          AND coalesce((SELECT a.accessed_at FROM memory_access a WHERE a.memory_id = m.id), m.created_at) < now() - $1::float8 * interval '1 day'`,
      [olderThanDays],
    );
    return res.rowCount ?? 0;
  }

  async deleteExpired(): Promise<number> {
    await this.init();
    return (await this.pool.query('DELETE FROM memories WHERE expires_at <= now()')).rowCount ?? 0;
  }

  /**
   * Re-embeds every memory with the configured embedder and makes it the recorded one. Safe to
   * interrupt: vectors go to a side column, swapped in (index rebuilt) in one transaction at the end.
   */
  async reembed(opts: { batchSize?: number; onProgress?: (done: number, total: number) => void } = {}): Promise<number> {
    await this.init();
    const n = await reembedAll(this.pool, this.embedder, { ...opts, transaction: (fn) => this.transaction(fn) });
    this.stored = this.current;
    this.log.info({ embedder: this.current, memories: n }, 're-embedded memory');
    return n;
  }

  /** Every memory as a JSONL line (no embeddings), oldest first; returns how many. */
  async exportJsonl(write: (line: string) => void | Promise<void>): Promise<number> {
    await this.init();
    await this.flush();
    let count = 0;
    // The cursor keeps created_at as Postgres wrote it: a JS Date drops the microseconds, and a
    // bulk load gives thousands of rows one now(), so paging on the Date would repeat a page forever.
    let after: { createdAt: string; id: string } | null = null;
    for (;;) {
      const res: pg.QueryResult<MemoryRow & { cursor_at: string }> = await this.pool.query<MemoryRow & { cursor_at: string }>(
        `SELECT ${MEMORY_SELECT}, m.created_at::text AS cursor_at FROM ${MEMORY_FROM}
          WHERE $1::timestamptz IS NULL OR (m.created_at, m.id) > ($1::timestamptz, $2::text)
          ORDER BY m.created_at, m.id LIMIT 1000`,
        [after?.createdAt ?? null, after?.id ?? null],
      );
      for (const r of res.rows) {
        await write(toJsonlLine({ ...toMemory(r), dedupeKey: r.dedupe_key }));
        count++;
      }
      if (res.rows.length < 1000) return count;
      const last = res.rows[res.rows.length - 1];
      after = { createdAt: last.cursor_at, id: last.id };
    }
  }

  /**
   * Imports exported lines, embedding them with the configured embedder. Each line is stored
   * whole or not at all; an id or dedupe key already stored is skipped. Bad lines do not stop the
   * import: it ends with a MemoryImportError naming them by line number. Returns how many were new.
   * An import of up to IMPORT_BUFFER_CHARS is read (and checked) first, then stored in bulk, in one
   * transaction; a larger one is stored as it is read, a statement of at most STATEMENT_CHARS at a
   * time (more is read only once it is stored), giving the event loop a turn between statements,
   * so memory stays bounded and the server keeps answering.
   */
  async importJsonl(lines: AsyncIterable<string> | Iterable<string>): Promise<number> {
    await this.ready();
    const problems: { line: number; message: string }[] = [];
    let refused = 0;
    const refuse = (line: number, message: string) => {
      refused++;
      if (problems.length < MAX_IMPORT_PROBLEMS) problems.push({ line, message });
    };
    let valid: { line: number; input: StoredInput }[] = [];
    let bufferedChars = 0;
    let streaming = false;
    let imported = 0;
    let lineNo = 0;
    for await (const raw of lines) {
      lineNo++;
      if (raw.trim() === '') continue;
      try {
        valid.push({ line: lineNo, input: parseJsonlLine(raw) });
        bufferedChars += raw.length;
      } catch (err) {
        refuse(lineNo, (err as Error).message);
      }
      if (!streaming && bufferedChars > IMPORT_BUFFER_CHARS) streaming = true;
      if (streaming && (valid.length >= IMPORT_BATCH || bufferedChars > STATEMENT_CHARS)) {
        const batch = valid;
        valid = [];
        bufferedChars = 0;
        imported += await this.importInBatches(batch, refuse);
      }
    }
    if (streaming) {
      imported += await this.importInBatches(valid, refuse);
    } else {
      let bulk = -1;
      if (valid.length >= BULK_MIN) {
        // In one transaction (and, when large, with the index built once); a failure rolls it all
        // back and the line-by-line path below names the culprit.
        bulk = await this.insertMany(
          valid.map((v) => v.input),
          { atomic: true },
        ).catch(() => -1);
      }
      imported = bulk >= 0 ? bulk : await this.importInBatches(valid, refuse);
    }
    if (refused > 0)
      throw new MemoryImportError(
        imported,
        problems.sort((a, b) => a.line - b.line),
        refused,
      );
    return imported;
  }

  /**
   * Batches of at most IMPORT_BATCH lines and STATEMENT_CHARS of content, with a turn of the
   * event loop after each; a batch that fails is retried line by line to name the bad line.
   */
  private async importInBatches(valid: { line: number; input: StoredInput }[], refuse: (line: number, message: string) => void): Promise<number> {
    let imported = 0;
    for (let i = 0; i < valid.length; ) {
      const end = batchEnd(valid, i, IMPORT_BATCH, (v) => v.input.content);
      const pending = valid.slice(i, end);
      i = end;
      try {
        imported += await this.insertCount(pending.map((b) => b.input));
      } catch {
        // One bad row fails the statement: retry one by one to name the line.
        for (const b of pending) {
          try {
            imported += await this.insertCount([b.input]);
          } catch (err) {
            refuse(b.line, (err as Error).message);
          }
        }
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return imported;
  }

  /** init(), then refuse to read or write vectors from another embedder. */
  private async ready(): Promise<void> {
    await this.init();
    if (this.mismatched) throw new EmbedderMismatchError(this.stored ?? { name: 'unknown', dimension: 0 }, this.current);
  }

  private async byDedupeKey(key: string): Promise<Memory | null> {
    const { rows } = await this.pool.query<MemoryRow>(`SELECT ${MEMORY_SELECT} FROM ${MEMORY_FROM} WHERE m.dedupe_key = $1`, [key]);
    return rows[0] ? toMemory(rows[0]) : null;
  }

  /** Embeds and inserts in one statement; returns the rows stored (conflicts on id or dedupe key are skipped). */
  private async insertBatch(items: StoredInput[], db: pg.Pool | pg.PoolClient = this.pool): Promise<MemoryRow[]> {
    if (items.length === 0) return [];
    const { rows } = await this.insertStatement<MemoryRow>(
      items,
      db,
      MEMORY_COLUMNS,
      `SELECT ${MEMORY_COLUMNS.split(', ')
        .map((c) => `m.${c}`)
        .join(', ')},
              coalesce(a.accessed_at, m.created_at) AS accessed_at, coalesce(a.access_count, 0) AS access_count
         FROM inserted m LEFT JOIN used a ON a.memory_id = m.id`,
    );
    return rows;
  }

  /**
   * insertBatch for bulk loads and imports: answers how many were stored, not the rows. The rows
   * would bring every content back through the connection (as much again as was sent) to be
   * parsed into strings and dropped.
   */
  private async insertCount(items: StoredInput[], db: pg.Pool | pg.PoolClient = this.pool): Promise<number> {
    if (items.length === 0) return 0;
    const { rows } = await this.insertStatement<{ n: number }>(items, db, 'id', 'SELECT count(*)::int AS n FROM inserted');
    return rows[0]?.n ?? 0;
  }

  /**
   * The one insert: embeds, stores the rows (skipping conflicts on id or dedupe key) with their
   * vectors, and the use an import carries over in memory_access, for the rows actually inserted.
   * `returning` is what `inserted` returns (id at least: `used` joins on it), `select` the answer.
   */
  private async insertStatement<R extends pg.QueryResultRow>(items: StoredInput[], db: pg.Pool | pg.PoolClient, returning: string, select: string): Promise<pg.QueryResult<R>> {
    for (const it of items) validate(it);
    const vectors = await this.embedder.embed(items.map((it) => it.content));
    const col = <K extends keyof StoredInput>(k: K) => items.map((it) => it[k]);
    return db.query<R>(
      `WITH input AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                              $8::timestamptz[], $9::timestamptz[], $10::int[], $11::timestamptz[], $12::timestamptz[], $13::text[], $14::text[])
           AS t(id, scope, kind, metadata, source, author, dedupe_key, created_at, accessed_at, access_count, expires_at, archived_at, embedding, content)
       ),
       inserted AS (
         INSERT INTO memories (id, scope, kind, content, metadata, source, author, dedupe_key, created_at, expires_at, archived_at, embedding)
         SELECT id, scope, kind, content, metadata::jsonb, source, author, dedupe_key, coalesce(created_at, now()), expires_at, archived_at, embedding::vector
           FROM input
         ON CONFLICT DO NOTHING
         RETURNING ${returning}
       ),
       used AS (
         INSERT INTO memory_access (memory_id, accessed_at, access_count)
         SELECT i.id, coalesce(i.accessed_at, i.created_at, now()), i.access_count
           FROM input i JOIN inserted USING (id)
          WHERE i.access_count > 0 OR i.accessed_at IS DISTINCT FROM i.created_at
         RETURNING memory_id, accessed_at, access_count
       )
       ${select}`,
      // The contents last: pg grows its message buffer by half again for each value that does not
      // fit, so the large value last is copied once, not again for every small value after it.
      [
        col('id'),
        col('scope'),
        col('kind'),
        items.map((it) => JSON.stringify(it.metadata)),
        col('source'),
        col('author'),
        col('dedupeKey'),
        col('createdAt'),
        col('accessedAt'),
        col('accessCount'),
        col('expiresAt'),
        col('archivedAt'),
        vectors.map((v) => this.checkedLiteral(v)),
        col('content'),
      ],
    );
  }

  private checkedLiteral(v: number[]): string {
    if (v.length !== this.embedder.dimension) {
      throw new Error(`the embedder ${this.embedder.name} returned ${v.length} dimensions instead of ${this.embedder.dimension}`);
    }
    return vectorLiteral(v);
  }

  private async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }
}

function fromNewMemory(m: NewMemory): StoredInput {
  return {
    id: newMemoryId(),
    scope: m.scope,
    kind: m.kind,
    content: m.content,
    metadata: m.metadata ?? {},
    source: m.source ?? null,
    author: m.author ?? null,
    dedupeKey: m.dedupeKey ?? null,
    createdAt: null,
    accessedAt: null,
    accessCount: 0,
    expiresAt: m.expiresAt ?? null,
    archivedAt: null,
  };
}

/** Where the statement starting at `start` ends: at most `rows` items and STATEMENT_CHARS of content, one item at least. */
function batchEnd<T>(items: T[], start: number, rows: number, content: (item: T) => string): number {
  let end = start;
  let chars = 0;
  while (end < items.length && end - start < rows && (end === start || chars + content(items[end]!).length <= STATEMENT_CHARS)) chars += content(items[end++]!).length;
  return end;
}

function validate(it: StoredInput): void {
  if (!isMemoryScope(it.scope)) throw new Error(`invalid memory scope "${it.scope}": use team, persona:<id>, conversation:<thread> or repo:<owner>/<repo>`);
  if (!(MEMORY_KINDS as readonly string[]).includes(it.kind)) throw new Error(`invalid memory kind "${it.kind}": use one of ${MEMORY_KINDS.join(', ')}`);
  if (it.content.trim() === '') throw new Error('a memory needs content');
}
