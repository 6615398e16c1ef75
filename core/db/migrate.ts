import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type pg from 'pg';
import type { Logger } from '../log.js';
import { packageRoot } from '../package-root.js';

/** A migration file: `NNNN_name.sql` in the migrations directory. */
interface MigrationFile {
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

export interface AppliedMigration {
  version: number;
  name: string;
  file: string;
}

export interface MigrateOptions {
  /** Directory of `NNNN_name.sql` files; default `core/db/migrations` in Pantheon's package. */
  dir?: string;
  logger: Logger;
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Any constant works; it only has to be the same in every Pantheon process on one database. */
const MIGRATION_LOCK_KEY = 727_001;

/** Where Pantheon's own migrations live. They are read from the source tree, not compiled. */
export function defaultMigrationsDir(): string {
  return join(packageRoot(), 'core', 'db', 'migrations');
}

/**
 * Brings the schema up to date.
 *
 * Migrations are append-only: each file is applied once, in version order, inside its own
 * transaction, and recorded in `schema_migrations` with a checksum. A file whose content
 * changed after it was applied is refused rather than silently skipped, because the
 * database and the file would then disagree about the schema. Concurrent starts (the
 * server and `pantheon worker`) are serialised with an advisory lock.
 * Returns the migrations applied by this call (empty when already up to date).
 */
export async function migrate(pool: pg.Pool, opts: MigrateOptions): Promise<AppliedMigration[]> {
  const dir = opts.dir ?? defaultMigrationsDir();
  const log = opts.logger.child({ component: 'migrate' });
  const files = readMigrationFiles(dir);
  const client = await pool.connect();
  const applied: AppliedMigration[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const { rows } = await client.query<{ version: number; name: string; checksum: string }>('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
      const done = new Map(rows.map((r) => [r.version, r]));
      for (const m of files) {
        const previous = done.get(m.version);
        if (previous && previous.checksum !== m.checksum) {
          throw new Error(
            `migration ${displayPath(m.file)} was changed after it was applied to this database ` +
              `(recorded checksum ${previous.checksum.slice(0, 12)}, file now ${m.checksum.slice(0, 12)}). ` +
              'Applied migrations must not be edited: restore the file and put the change in a new migration.',
          );
        }
      }
      const known = new Set(files.map((m) => m.version));
      const unknown = rows.filter((r) => !known.has(r.version));
      if (unknown.length > 0) {
        log.warn({ versions: unknown.map((r) => `${r.version}_${r.name}`) }, 'the database has migrations this version of Pantheon does not know; was it used by a newer version?');
      }
      for (const m of files) {
        if (done.has(m.version)) continue;
        await applyOne(client, m);
        log.info({ version: m.version, name: m.name }, 'applied migration');
        applied.push({ version: m.version, name: m.name, file: m.file });
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    }
  } finally {
    client.release();
  }
  return applied;
}

/**
 * Whether every migration this version of Pantheon knows is applied (for `/readyz`): one small
 * query; the files are read once.
 */
export function migrationsCurrent(pool: pg.Pool, dir = defaultMigrationsDir()): () => Promise<boolean> {
  const versions = readMigrationFiles(dir).map((m) => m.version);
  return async () => {
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations WHERE version = ANY($1::int[])', [versions]);
    return rows[0]!.n === versions.length;
  };
}

async function applyOne(client: pg.PoolClient, m: MigrationFile): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(m.sql);
    await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw new Error(`migration ${displayPath(m.file)} failed: ${(err as Error).message}`, { cause: err });
  }
}

/** The migration files of a directory, in version order; a misnamed `.sql` file is an error. */
function readMigrationFiles(dir: string): MigrationFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new Error(`cannot read the migrations directory ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const files: MigrationFile[] = [];
  const byVersion = new Map<number, string>();
  for (const entry of names.filter((n) => n.endsWith('.sql')).sort()) {
    const match = FILE_PATTERN.exec(entry);
    const file = join(dir, entry);
    if (!match) {
      throw new Error(`migration file ${displayPath(file)} is misnamed: expected NNNN_name.sql (four digits, lowercase letters, digits and _).`);
    }
    const version = Number(match[1]);
    const clash = byVersion.get(version);
    if (clash) throw new Error(`migrations ${clash} and ${entry} have the same version ${match[1]}; renumber one of them.`);
    byVersion.set(version, entry);
    const sql = readFileSync(file, 'utf8');
    // Line endings are normalised first, so a checkout with CRLF endings keeps the checksum.
    const checksum = createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
    files.push({ version, name: match[2], file, sql, checksum });
  }
  return files;
}

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}
