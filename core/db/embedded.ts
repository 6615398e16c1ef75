import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Logger } from '../log.js';
import { acquireDataDirLock } from './data-dir-lock.js';
import { initDataDirInChild } from './init-data-dir.js';

/**
 * Postgres settings for the embedded database, passed at startup.
 *
 * PGlite's defaults are those of a server (128 MB of shared buffers, 64 MB for index
 * builds), which alone push an idle Pantheon past 500 MB of RSS. Pantheon's tables are
 * small and the data files sit in the OS page cache anyway, so smaller buffers cost little:
 * with these the whole process idles around 250-300 MB. The WebAssembly heap cannot start
 * below the 128 MB the module declares, so `initialMemory` is left alone.
 */
const LOW_MEMORY_SETTINGS = [
  'shared_buffers=16MB',
  'wal_buffers=1MB',
  'temp_buffers=2MB',
  'work_mem=4MB',
  'maintenance_work_mem=16MB',
  'max_connections=10',
];

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
}): Promise<EmbeddedPostgres> {
  const dataDir = resolve(opts.dataDir);
  const pgdata = join(dataDir, 'pgdata');
  mkdirSync(dataDir, { recursive: true });
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
    const started = performance.now();
    db = await PGlite.create({
      ...extra,
      dataDir: pgdata,
      extensions: { ...extra.extensions, vector },
      startParams: extra.startParams ?? [
        ...PGlite.defaultStartParams,
        ...LOW_MEMORY_SETTINGS.flatMap((s) => ['-c', s]),
      ],
    });
    const startupMs = Math.round(performance.now() - started);

    // maxConnections leaves room for the pool's one connection plus a replacement while a
    // broken one is being torn down; see database.ts for why the pool itself uses one.
    server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 4 });
    await server.start();
    const [host, portText] = server.getServerConn().split(':');
    const port = Number(portText);
    log.info({ pgdata, startupMs, port }, 'embedded Postgres (PGlite) started');

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
