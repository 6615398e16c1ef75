export { createDatabase, describeUrl, type Database, type DatabaseOptions } from './database.js';
export { migrate, readMigrationFiles, defaultMigrationsDir, type AppliedMigration, type MigrateOptions, type MigrationFile } from './migrate.js';
export type { EmbeddedPgliteOptions } from './embedded.js';
