import { pino } from 'pino';
import { loadConfig } from '../core/config/index.js';
import { backupEmbedded, restoreEmbedded } from '../core/db/backup.js';
import { createLogger } from '../core/log.js';

interface BackupOptions {
  config?: string;
  dataDir?: string;
  force?: boolean;
}

/** The embedded database's data dir, or one line saying a Postgres is backed up with pg_dump. */
async function embeddedDataDir(opts: BackupOptions, verb: string): Promise<string> {
  const { config } = await loadConfig({ configPath: opts.config, dataDir: opts.dataDir });
  if (config.database.url) {
    throw new Error(
      `the database is the PostgreSQL of DATABASE_URL / database.url: ${verb} it with ${verb === 'back up' ? 'pg_dump' : 'pg_restore'} (docs/deploy.md, "Backups"); \`pantheon ${verb === 'back up' ? 'backup' : 'restore'}\` is for the embedded database`,
    );
  }
  return config.dataDir;
}

const quietLogger = () => createLogger({ level: process.env.PANTHEON_LOG_LEVEL ?? 'warn', destination: pino.destination({ dest: 2, sync: true }) });

/** `pantheon backup <file>`: a consistent copy of the embedded database (stop the server first). */
export async function backupCommand(file: string, opts: BackupOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const dataDir = await embeddedDataDir(opts, 'back up');
  const bytes = await backupEmbedded({ dataDir, file, logger: quietLogger() });
  out.write(`backed up the embedded database in ${dataDir} to ${file} (${(bytes / 1024 / 1024).toFixed(1)} MB)\n`);
}

/** `pantheon restore <file>`: into a data dir without a database (or `--force` to replace it). */
export async function restoreCommand(file: string, opts: BackupOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const dataDir = await embeddedDataDir(opts, 'restore');
  await restoreEmbedded({ dataDir, file, force: opts.force, logger: quietLogger() });
  out.write(`restored ${file} into ${dataDir}; \`pantheon start --data-dir ${dataDir}\` runs on it\n`);
}
