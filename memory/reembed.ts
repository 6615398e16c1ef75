import type pg from 'pg';
import { vectorLiteral } from './rows.js';
import { HNSW_INDEX, addVectorColumn, createHnswIndex, writeMeta } from './schema.js';
import type { Embedder } from './types.js';

export interface ReembedOptions {
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  transaction: <T>(fn: (client: pg.PoolClient) => Promise<T>) => Promise<T>;
}

/**
 * Re-embeds every memory with `embedder`. The new vectors go to `embedding_next` (of the new
 * dimension) batch by batch, outside any long transaction; one last transaction embeds what was
 * written meanwhile, swaps the columns, rebuilds the HNSW index and records the embedder. Killed
 * half-way, the store is as before (the next reembed starts over), never half-switched.
 */
export async function reembedAll(pool: pg.Pool, embedder: Embedder, opts: ReembedOptions): Promise<number> {
  const batchSize = Math.max(1, opts.batchSize ?? 200);
  await opts.transaction((c) => addVectorColumn(c, 'embedding_next', embedder.dimension));
  const { rows: count } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM memories');
  const total = count[0].n;
  let done = 0;
  let lastId = '';
  for (;;) {
    const { rows } = await pool.query<{ id: string; content: string }>('SELECT id, content FROM memories WHERE id > $1 ORDER BY id LIMIT $2', [lastId, batchSize]);
    if (rows.length === 0) break;
    await embedInto(pool, embedder, rows);
    done += rows.length;
    lastId = rows[rows.length - 1].id;
    opts.onProgress?.(Math.min(done, total), Math.max(total, done));
  }
  await opts.transaction(async (c) => {
    await c.query('LOCK TABLE memories IN ACCESS EXCLUSIVE MODE');
    for (;;) {
      const { rows } = await c.query<{ id: string; content: string }>('SELECT id, content FROM memories WHERE embedding_next IS NULL ORDER BY id LIMIT $1', [batchSize]);
      if (rows.length === 0) break;
      await embedInto(c, embedder, rows);
      done += rows.length;
    }
    await c.query(`DROP INDEX IF EXISTS ${HNSW_INDEX}`);
    await c.query('ALTER TABLE memories DROP COLUMN IF EXISTS embedding');
    await c.query('ALTER TABLE memories RENAME COLUMN embedding_next TO embedding');
    await createHnswIndex(c);
    await writeMeta(c, { name: embedder.name, dimension: embedder.dimension });
  });
  // Every row was rewritten: reclaim the old versions (best effort; not allowed in a transaction).
  await pool.query('VACUUM memories').catch(() => {});
  return done;
}

async function embedInto(db: pg.Pool | pg.PoolClient, embedder: Embedder, rows: { id: string; content: string }[]): Promise<void> {
  const vectors = await embedder.embed(rows.map((r) => r.content));
  for (const v of vectors) {
    if (v.length !== embedder.dimension) throw new Error(`the embedder ${embedder.name} returned ${v.length} dimensions instead of ${embedder.dimension}`);
  }
  await db.query(
    `UPDATE memories SET embedding_next = v.e::vector
       FROM unnest($1::text[], $2::text[]) AS v(id, e) WHERE memories.id = v.id`,
    [rows.map((r) => r.id), vectors.map(vectorLiteral)],
  );
}
