import { randomUUID } from 'node:crypto';
import pg from 'pg';

/**
 * The real Postgres some tests use (no pgvector needed): PANTHEON_TEST_POSTGRES_URL, else the
 * machine's local server. test/run.mjs probes it; when none answers outside CI it sets
 * PANTHEON_TEST_POSTGRES=missing and those tests are skipped with this reason.
 */
export const TEST_POSTGRES_URL = process.env.PANTHEON_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export const postgresSkip: string | false =
  process.env.PANTHEON_TEST_POSTGRES === 'missing' ? `no PostgreSQL answers at ${new URL(TEST_POSTGRES_URL).host}: install one (apt-get install postgresql) or set PANTHEON_TEST_POSTGRES_URL` : false;

/** A fresh, empty database on the test server; `drop()` removes it. */
export async function createTestDatabase(label = 'test'): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `pantheon_${label.replace(/[^a-z0-9_]/gi, '_')}_${randomUUID().slice(0, 8)}`.toLowerCase();
  const admin = new pg.Client(TEST_POSTGRES_URL);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const c = new pg.Client(TEST_POSTGRES_URL);
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
