import { existsSync, readdirSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import type { Logger } from '../log.js';
import { makeDataDirPrivate, secureDataDir } from '../private-data-dir.js';
import { acquireDataDirLock, DataDirInUseError, type DataDirLock } from './data-dir-lock.js';

/**
 * Backup and restore of the embedded database (PGlite): the whole Postgres data directory as a
 * gzipped tarball (PGlite's dumpDataDir), so conversations, memory (pgvector), the work ledger,
 * checkpoints and the audit log come back as they were. Both take the data dir's lock: the
 * embedded database serves one process, and a copy taken while a server writes would not be
 * consistent. A Postgres is backed up with pg_dump instead (docs/deploy.md).
 */

/** The lock, or one line saying who holds it and what to do. */
function lockFor(dataDir: string, doing: string): DataDirLock {
  const pgdata = join(dataDir, 'pgdata');
  try {
    return acquireDataDirLock(join(dataDir, 'pgdata.lock'), `the embedded database in ${pgdata}`);
  } catch (err) {
    if (!(err instanceof DataDirInUseError)) throw err;
    const who = err.holder ? `pid ${err.holder.pid}` : 'another process';
    throw new Error(`the embedded database in ${pgdata} is in use by ${who} (a running Pantheon): stop it first, ${doing} needs the database to itself`, { cause: err });
  }
}

const hasDatabase = (pgdata: string) => existsSync(join(pgdata, 'PG_VERSION'));

/** Writes a consistent copy of `<dataDir>/pgdata` to `file` (owner-only); returns its size in bytes. */
export async function backupEmbedded(opts: { dataDir: string; file: string; logger: Logger }): Promise<number> {
  const dataDir = resolve(opts.dataDir);
  const pgdata = join(dataDir, 'pgdata');
  if (!hasDatabase(pgdata)) throw new Error(`no Pantheon database in ${dataDir} (nothing has run there yet): pass the --data-dir that \`pantheon start\` uses`);
  const lock = lockFor(dataDir, 'a backup');
  try {
    const db = await PGlite.create({ dataDir: pgdata, extensions: { vector } });
    let dump: Blob;
    try {
      await db.exec('CHECKPOINT');
      dump = await db.dumpDataDir('gzip');
    } finally {
      await db.close();
    }
    const bytes = Buffer.from(await dump.arrayBuffer());
    // Written whole beside the target, then renamed: an interrupted backup never leaves half a file under the name.
    const file = resolve(opts.file);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes, { mode: 0o600 });
    renameSync(tmp, file);
    opts.logger.info({ pgdata, file, bytes: bytes.length }, 'embedded database backed up');
    return bytes.length;
  } finally {
    lock.release();
  }
}

/**
 * Restores a backup into `<dataDir>/pgdata`. The data dir must have no database yet, unless
 * `force` (the database there is then replaced; nothing else in the data dir is touched).
 */
export async function restoreEmbedded(opts: { dataDir: string; file: string; force?: boolean; logger: Logger }): Promise<void> {
  const dataDir = resolve(opts.dataDir);
  const pgdata = join(dataDir, 'pgdata');
  const file = resolve(opts.file);
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot read the backup ${file} (${err.code ?? err.message})`);
  });
  secureDataDir(dataDir, opts.logger);
  const lock = lockFor(dataDir, 'a restore');
  try {
    const occupied = existsSync(pgdata) && readdirSync(pgdata).length > 0;
    if (occupied && !opts.force) {
      throw new Error(`${pgdata} already holds a database: restore into a new --data-dir, or pass --force to replace it`);
    }
    if (occupied) rmSync(pgdata, { recursive: true, force: true });
    let db: PGlite | undefined;
    try {
      db = await PGlite.create({ dataDir: pgdata, extensions: { vector }, loadDataDir: new Blob([bytes]) });
      await db.query('SELECT 1');
    } catch (err) {
      rmSync(pgdata, { recursive: true, force: true });
      throw new Error(`${file} is not a backup of Pantheon's embedded database (written by \`pantheon backup\`): ${(err as Error).message}`, { cause: err });
    } finally {
      await db?.close().catch(() => {});
    }
    makeDataDirPrivate(dataDir);
    opts.logger.info({ pgdata, file }, 'embedded database restored');
  } finally {
    lock.release();
  }
}
