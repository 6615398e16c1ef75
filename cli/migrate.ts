import { pino } from 'pino';
import { loadConfig } from '../core/config/index.js';
import { createDatabase } from '../core/db/index.js';
import { migrate } from '../core/db/migrate.js';
import { createLogger } from '../core/log.js';

/** `pantheon migrate`: applies pending migrations to the configured database and exits. */
export async function runMigrations(opts: { configPath?: string; dataDir?: string }): Promise<void> {
  const { config } = await loadConfig({ configPath: opts.configPath, dataDir: opts.dataDir });
  const logger = createLogger({ destination: pino.destination({ dest: 2, sync: true }) });
  const db = await createDatabase({ url: config.database.url, dataDir: config.dataDir, sharedBuffers: config.database.sharedBuffers, logger });
  try {
    const applied = await migrate(db.pool, { logger });
    process.stdout.write(applied.length ? `applied ${applied.length} migration(s): ${applied.map((m) => m.file).join(', ')}\n` : 'database is up to date\n');
  } finally {
    await db.close();
  }
}
