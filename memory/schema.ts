import type pg from 'pg';
import { MemoryUnavailableError } from './errors.js';

/** What the server's pgvector can do. */
export interface VectorSupport {
  version: string;
  /** pgvector 0.8+: filtered HNSW scans keep going until they have enough rows. */
  iterativeScan: boolean;
}

export const HNSW_INDEX = 'memories_embedding_hnsw';

/**
 * Makes sure pgvector is enabled, or says exactly why memory cannot run. Called in init()'s
 * transaction. The migration does not create the extension, so a Postgres without pgvector
 * still runs the rest of Pantheon.
 */
export async function ensurePgvector(client: pg.PoolClient): Promise<VectorSupport> {
  const { rows: tables } = await client.query<{ t: string | null }>(`SELECT to_regclass('memories')::text AS t`);
  if (!tables[0]?.t) throw new Error('the memories table does not exist: run the database migrations first (`pantheon start` runs them)');
  const { rows } = await client.query<{ default_version: string; installed_version: string | null }>(`SELECT default_version, installed_version FROM pg_available_extensions WHERE name = 'vector'`);
  if (rows.length === 0) {
    const { rows: v } = await client.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`);
    const major = Math.floor(Number(v[0]?.v ?? 0) / 10000) || 'NN';
    throw new MemoryUnavailableError(
      `memory needs the pgvector extension, and this Postgres server does not have it. Install pgvector on the server ` +
        `(e.g. \`apt install postgresql-${major}-pgvector\`, or run the pgvector/pgvector Docker image; see https://github.com/pgvector/pgvector#installation) ` +
        'and restart Pantheon, or run without DATABASE_URL to use the embedded database, which includes it.',
    );
  }
  let version = rows[0].installed_version;
  if (!version) {
    await client.query('SAVEPOINT enable_vector');
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS vector');
      await client.query('RELEASE SAVEPOINT enable_vector');
    } catch (err) {
      await client.query('ROLLBACK TO SAVEPOINT enable_vector');
      // Another process may have created it at the same moment.
      const { rows: now } = await client.query(`SELECT 1 FROM pg_extension WHERE extname = 'vector'`);
      if (now.length === 0) {
        throw new MemoryUnavailableError(
          `pgvector is installed on the server but could not be enabled in this database (${(err as Error).message}): ` + 'run `CREATE EXTENSION vector;` in it as a superuser, then restart Pantheon.',
          { cause: err },
        );
      }
    }
    const { rows: after } = await client.query<{ extversion: string }>(`SELECT extversion FROM pg_extension WHERE extname = 'vector'`);
    version = after[0]?.extversion ?? rows[0].default_version;
  }
  const [major, minor] = version.split('.').map(Number);
  if (major === 0 && minor < 5) {
    throw new MemoryUnavailableError(`memory needs pgvector 0.5 or later (for HNSW indexes); this database has ${version}: run \`ALTER EXTENSION vector UPDATE;\` after upgrading pgvector.`);
  }
  return { version, iterativeScan: major > 0 || minor >= 8 };
}

/** The dimension of a `vector(N)` column of memories, or null when there is no such column. */
export async function columnDimension(client: pg.PoolClient | pg.Pool, column: string): Promise<number | null> {
  const { rows } = await client.query<{ t: string }>(
    `SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute
      WHERE attrelid = 'memories'::regclass AND attname = $1 AND NOT attisdropped`,
    [column],
  );
  if (rows.length === 0) return null;
  const m = /^vector\((\d+)\)$/.exec(rows[0].t);
  return m ? Number(m[1]) : -1;
}

/** Adds an empty `vector(dimension)` column (the dimension is an integer we checked, never user text). */
export async function addVectorColumn(client: pg.PoolClient, column: 'embedding' | 'embedding_next', dimension: number): Promise<void> {
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > 2000) throw new Error(`invalid embedding dimension ${dimension}`);
  await client.query(`ALTER TABLE memories DROP COLUMN IF EXISTS ${column}`);
  await client.query(`ALTER TABLE memories ADD COLUMN ${column} vector(${dimension})`);
}

/**
 * The approximate-nearest-neighbour index recall uses: HNSW with cosine distance.
 * Denser than pgvector's defaults (m=16, ef_construction=64): at 100k memories the defaults gave
 * recall@10 0.886 at ef_search 100, this index 0.935 at 100 and 0.955 at 160 (the store's), as
 * measured by bench/memory.ts; the price is about twice the build time. The build gets more memory than the embedded database's small default.
 */
export async function createHnswIndex(client: pg.PoolClient): Promise<void> {
  await client.query(`SET LOCAL maintenance_work_mem = '256MB'`);
  await client.query(`CREATE INDEX IF NOT EXISTS ${HNSW_INDEX} ON memories USING hnsw (embedding vector_cosine_ops) WITH (m = 24, ef_construction = 128)`);
}

/** Replaces the embedding column (and its index) by one of another dimension, emptying it. */
export async function recreateEmbeddingColumn(client: pg.PoolClient, dimension: number): Promise<void> {
  await client.query(`DROP INDEX IF EXISTS ${HNSW_INDEX}`);
  await addVectorColumn(client, 'embedding', dimension);
  await createHnswIndex(client);
}

export interface EmbedderIdentity {
  name: string;
  dimension: number;
}

export async function readMeta(client: pg.PoolClient | pg.Pool): Promise<EmbedderIdentity | null> {
  const { rows } = await client.query<{ embedder: string; dimension: number }>('SELECT embedder, dimension FROM memory_meta');
  return rows[0] ? { name: rows[0].embedder, dimension: Number(rows[0].dimension) } : null;
}

export async function writeMeta(client: pg.PoolClient, e: EmbedderIdentity): Promise<void> {
  await client.query(
    `INSERT INTO memory_meta (singleton, embedder, dimension) VALUES (true, $1, $2)
     ON CONFLICT (singleton) DO UPDATE SET embedder = EXCLUDED.embedder, dimension = EXCLUDED.dimension, updated_at = now()`,
    [e.name, e.dimension],
  );
}
