export { createDatabase, describeUrl, type Database } from './database.js';
export { migrate, defaultMigrationsDir } from './migrate.js';
