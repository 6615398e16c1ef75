import { existsSync, readdirSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Logger } from '../log.js';
import { makeDataDirPrivate, secureDataDir } from '../private-data-dir.js';
import { acquireDataDirLock } from './data-dir-lock.js';
import { initDataDirInChild } from './init-data-dir.js';

/**
 * Postgres settings for the embedded database, passed at startup.
 *
 * PGlite's defaults are those of a server (128 MB of shared buffers, 64 MB for index
 * builds), and PGlite commits its shared buffers up front: 128 MB alone pushes an idle
 * Pantheon past 500 MB of RSS. The buffers are sized to the data instead (see
 * autoSharedBuffers); the rest stays small, and random pages cost what they do in memory.
 * The WebAssembly heap cannot start below the 128 MB the module declares, so `initialMemory`
 * is left alone.
 */
const LOW_MEMORY_SETTINGS = [
  'wal_buffers=1MB',
  'temp_buffers=2MB',
  'work_mem=4MB',
  'maintenance_work_mem=16MB',
  'max_connections=10',
  // Pages are in the buffers or the OS cache, never on a spinning disk: with the server default
  // of 4 the planner scanned 10k memories in full (41 ms) rather than walk the HNSW index (5 ms).
  'random_page_cost=1.1',
];

const MB = 1024 * 1024;
const MIN_BUFFERS_MB = 16;
const MAX_BUFFERS_MB = 1024;

/**
 * Shared buffers for the embedded database, sized at startup to the data it holds: room for
 * all of it plus a fifth for growth, at least 16 MB and at most 1 GB or a quarter of the
 * machine's memory. A page that is not in the buffers is read through PGlite's file system,
 * which costs far more than in a native Postgres: at 100k memories an HNSW search that reads
 * its pages that way takes about 40 ms, and about 12 ms with the index in the buffers. A new
 * installation starts at 16 MB; one whose memory has grown gets bigger buffers at its next start.
 */
export function autoSharedBuffers(pgdata: string, totalMemory = totalmem()): { mb: number; dataMb: number } {
  let bytes = 0;
  const base = join(pgdata, 'base');
  if (existsSync(base)) {
    // template1 (1) and template0 (4) hold only the catalogs a new database is copied from.
    for (const db of readdirSync(base)) {
      if (db === '1' || db === '4') continue;
      const dir = join(base, db);
      if (!statSync(dir).isDirectory()) continue;
      for (const f of readdirSync(dir)) bytes += statSync(join(dir, f), { throwIfNoEntry: false })?.size ?? 0;
    }
  }
  const dataMb = Math.ceil(bytes / MB);
  const cap = Math.max(MIN_BUFFERS_MB, Math.min(MAX_BUFFERS_MB, Math.floor(totalMemory / MB / 4)));
  const wanted = Math.ceil((dataMb * 1.2) / 16) * 16;
  return { mb: Math.min(cap, Math.max(MIN_BUFFERS_MB, wanted)), dataMb };
}

/** Extra PGlite options; `extensions` are merged with the built-in pgvector. */
export type EmbeddedPgliteOptions = Omit<PGliteOptions, 'dataDir'>;

export interface EmbeddedPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`: the socket server in this process. */
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts PGlite (Postgres compiled to WebAssembly, with pgvector) on `<dataDir>/pgdata` and
 * serves it over the Postgres wire protocol on 127.0.0.1 with a free port, so the rest of
 * Pantheon, LangGraph's checkpointer included, talks to it through an ordinary `pg` Pool.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  logger: Logger;
  pgliteOptions?: EmbeddedPgliteOptions;
  /** `auto` (default: sized to the data, see autoSharedBuffers) or a size such as `256MB`. */
  sharedBuffers?: string;
}): Promise<EmbeddedPostgres> {
  const dataDir = resolve(opts.dataDir);
  const pgdata = join(dataDir, 'pgdata');
  // Before anything opens it: created 0700, everything in it made private (or a clear error).
  secureDataDir(dataDir, opts.logger);
  const lock = acquireDataDirLock(join(dataDir, 'pgdata.lock'), `the embedded database in ${pgdata}`);
  const log = opts.logger.child({ component: 'pglite' });

  let db: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  try {
    const extra = opts.pgliteOptions ?? {};
    if (!extra.fs) {
      const initStarted = performance.now();
      await initDataDirInChild(pgdata);
      const initMs = Math.round(performance.now() - initStarted);
      if (initMs > 100) log.info({ pgdata, initMs }, 'created a new embedded database');
    }
    const auto = autoSharedBuffers(pgdata);
    const sharedBuffers = !opts.sharedBuffers || opts.sharedBuffers === 'auto' ? `${auto.mb}MB` : opts.sharedBuffers;
    const started = performance.now();
    db = await PGlite.create({
      ...extra,
      dataDir: pgdata,
      extensions: { ...extra.extensions, vector },
      startParams: extra.startParams ?? [...PGlite.defaultStartParams, ...[`shared_buffers=${sharedBuffers}`, ...LOW_MEMORY_SETTINGS].flatMap((s) => ['-c', s])],
    });
    const startupMs = Math.round(performance.now() - started);
    // PGlite writes some files at startup with modes of its own (pg_internal.init is 0644, umask
    // or not); Postgres's own later writes are 0600.
    if (!extra.fs) {
      const late = makeDataDirPrivate(pgdata);
      if (late.tightened > 0) log.debug({ pgdata, tightened: late.tightened, ms: late.ms }, 'made files PGlite wrote at startup private');
    }

    // maxConnections leaves room for the pool's one connection plus a replacement while a
    // broken one is being torn down; see database.ts for why the pool itself uses one.
    server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 4 });
    await server.start();
    const [host, portText] = server.getServerConn().split(':');
    const port = Number(portText);
    log.info({ pgdata, startupMs, port, sharedBuffers, dataMb: auto.dataMb }, 'embedded Postgres (PGlite) started');

    const runningDb = db;
    const runningServer = server;
    let closing: Promise<void> | undefined;
    return {
      url: `postgres://postgres@${host}:${port}/postgres`,
      host,
      port,
      close() {
        closing ??= (async () => {
          try {
            await runningServer.stop();
            // close() runs Postgres's shutdown (a checkpoint), so everything written is on disk.
            await runningDb.close();
            log.info({ pgdata }, 'embedded Postgres stopped');
          } finally {
            lock.release();
          }
        })();
        return closing;
      },
    };
  } catch (err) {
    await server?.stop().catch(() => {});
    await db?.close().catch(() => {});
    lock.release();
    throw new Error(`could not start the embedded database in ${pgdata}: ${(err as Error).message}`, { cause: err });
  }
}
