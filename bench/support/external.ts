import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchEnvironment {
  /** A fresh data directory for the app. */
  dataDir: string;
  /** The app's environment: PATH and HOME, plus DATABASE_URL, REDIS_URL and a queue prefix when external. */
  env: NodeJS.ProcessEnv;
  /** Removes the data directory, and with external services the bench's database and Redis keys. */
  cleanup: (opts?: { keepDatabase?: boolean }) => Promise<void>;
}

/**
 * What a bench runs the app in. `external`: its own Postgres database (on the local server) and
 * Redis key prefix, dropped and deleted by `cleanup` (finished BullMQ jobs included); otherwise the
 * embedded default.
 */
export async function benchEnvironment(label: string, external: boolean): Promise<BenchEnvironment> {
  const dataDir = await mkdtemp(join(tmpdir(), `pantheon-${label}-`));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  const removeDir = () => rm(dataDir, { recursive: true, force: true });
  if (!external) return { dataDir, env, cleanup: removeDir };

  const name = `pantheon_${label.replace(/-/g, '_')}_${randomUUID().slice(0, 8)}`;
  const c = new pg.Client(ADMIN_URL);
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `bench-${name}`;
  Object.assign(env, { DATABASE_URL: ADMIN_URL.replace(/\/[^/]*$/, `/${name}`), REDIS_URL: redisUrl, PANTHEON_QUEUE_PREFIX: prefix });
  const cleanup = async (opts: { keepDatabase?: boolean } = {}) => {
    await removeDir();
    if (!opts.keepDatabase) {
      const d = new pg.Client(ADMIN_URL);
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await d.end();
    }
    const redis = new Redis(redisUrl, { lazyConnect: true });
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  };
  return { dataDir, env, cleanup };
}
