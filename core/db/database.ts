import pg from 'pg';
import { allowNamedStatements } from './statements.js';
import type { Logger } from '../log.js';
import { startEmbeddedPostgres, type EmbeddedPgliteOptions, type EmbeddedPostgres } from './embedded.js';

/**
 * The process's one database: a `pg` Pool that every part of Pantheon shares, whether it
 * points at a real Postgres (`DATABASE_URL`) or at the embedded PGlite.
 */
export interface Database {
  pool: pg.Pool;
  /** Connection string of the server the pool talks to (the embedded one's loopback URL with PGlite). */
  url: string;
  kind: 'pglite' | 'postgres';
  /** Ends the pool and, with PGlite, shuts Postgres down cleanly and releases the data directory. */
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A Postgres connection string; without it the embedded PGlite is used. */
  url?: string;
  /** Where the embedded database lives (`<dataDir>/pgdata`). */
  dataDir: string;
  logger: Logger;
  pgliteOptions?: EmbeddedPgliteOptions;
  /** The embedded database's shared buffers: `auto` (sized to its data at startup) or a size such as `256MB`. */
  sharedBuffers?: string;
  /** Pool size for a real Postgres (default 10). The embedded database always uses 1. */
  poolMax?: number;
}

/**
 * How long a caller waits for the pool's connection before getting an error instead of
 * hanging. With PGlite the pool has one connection, so code that holds a client (say, in a
 * transaction) and then calls `pool.query` would otherwise wait forever.
 */
const CONNECTION_WAIT_MS = 30_000;

export async function createDatabase(opts: DatabaseOptions): Promise<Database> {
  const log = opts.logger.child({ component: 'db' });
  if (opts.url) return connectPostgres(opts.url, opts.poolMax ?? 10, log);
  const embedded = await startEmbeddedPostgres({ dataDir: opts.dataDir, logger: opts.logger, pgliteOptions: opts.pgliteOptions, sharedBuffers: opts.sharedBuffers });
  try {
    return await connectEmbedded(embedded, log);
  } catch (err) {
    await embedded.close().catch(() => {});
    throw err;
  }
}

async function connectPostgres(url: string, max: number, log: Logger): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: CONNECTION_WAIT_MS });
  allowNamedStatements(pool);
  // The error carries the whole pg client (connection parameters, queues): log what says what happened.
  pool.on('error', (err: Error & { code?: string }) => log.warn({ err: { message: err.message, code: err.code } }, 'idle Postgres connection failed; the pool will open a new one'));
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => {});
    throw new Error(`cannot connect to the Postgres in DATABASE_URL (${describeUrl(url)}): ${(err as Error).message}`, { cause: err });
  }
  log.info({ server: describeUrl(url), poolMax: max }, 'connected to Postgres');
  return { pool, url, kind: 'postgres', close: onceOnly(() => pool.end()) };
}

/**
 * The pool on the embedded database has exactly one connection.
 *
 * PGlite is one Postgres backend in single-user mode: pglite-socket's "multiplexer" lets
 * several sockets in, but they all share that one session and it queues their protocol
 * messages one by one. It keeps a transaction's statements together, yet the messages of a
 * parameterised query (Parse, Bind, Execute, Sync) from two sockets can interleave when
 * they arrive in the same event-loop turn, and the unnamed statement of one then runs with
 * the parameters of the other. Queries run one at a time in PGlite anyway, so one
 * connection costs no throughput: pg's pool queues callers in order, transactions are
 * naturally serialised, and session state (SET, temp tables) is unambiguous.
 * The connection is kept open while idle; re-opening it would repeat the startup exchange.
 */
async function connectEmbedded(embedded: EmbeddedPostgres, log: Logger): Promise<Database> {
  const pool = new pg.Pool({
    host: embedded.host,
    port: embedded.port,
    user: 'postgres',
    database: 'postgres',
    max: 1,
    idleTimeoutMillis: 0,
    connectionTimeoutMillis: CONNECTION_WAIT_MS,
  });
  pool.on('error', (err) => log.warn({ err }, 'embedded Postgres connection failed; the pool will open a new one'));
  await pool.query('SELECT 1');
  return {
    pool,
    url: embedded.url,
    kind: 'pglite',
    close: onceOnly(async () => {
      try {
        await pool.end();
      } finally {
        await embedded.close();
      }
    }),
  };
}

/** host:port/database of a connection string, without the user's password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'an unparsable URL';
  }
}

function onceOnly(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}
