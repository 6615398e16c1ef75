import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * The Redis the tests use. `npm test` (test/run.mjs) always sets REDIS_URL, finding or
 * starting a server; a test file run by hand needs it set too.
 */
export function testRedisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) {
    throw new Error('REDIS_URL is not set. Run the tests with `npm test` (it finds or starts Redis), ' + 'or set REDIS_URL=redis://127.0.0.1:6379 yourself.');
  }
  return url;
}

/** A key prefix no other test run shares, so parallel runs never see each other's jobs. */
export function uniquePrefix(label = 'pantheon-test'): string {
  return `${label}-${randomBytes(6).toString('hex')}`;
}

/** Deletes every key under `prefix:`. Returns how many were deleted. */
export async function deleteKeys(redisUrl: string, prefix: string): Promise<number> {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await client.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    client.disconnect();
  }
}
