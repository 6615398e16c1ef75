import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A bench's own Postgres database (on the local server) and Redis key prefix, and a cleanup that
 * drops the database and deletes every key under the prefix (finished BullMQ jobs included).
 */
export async function benchServices(label: string): Promise<{ env: NodeJS.ProcessEnv; cleanup: () => Promise<void> }> {
  const name = `pantheon_${label}_${randomUUID().slice(0, 8)}`;
  const c = new pg.Client(ADMIN_URL);
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `bench-${name}`;
  const env = { DATABASE_URL: ADMIN_URL.replace(/\/[^/]*$/, `/${name}`), REDIS_URL: redisUrl, PANTHEON_QUEUE_PREFIX: prefix };
  const cleanup = async () => {
    const d = new pg.Client(ADMIN_URL);
    await d.connect();
    await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await d.end();
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
  return { env, cleanup };
}
