import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { LoadedConfig } from '../core/config/index.js';
import { knownHostName, knownKeyTypes, readKnownHosts } from '../tools/infra/known-hosts.js';
import { fail, ok, type Fact } from './doctor-report.js';

/** Where a Redis URL points, without its password. */
function redisWhere(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 6379}${u.pathname.length > 1 ? u.pathname : ''}`;
  } catch {
    return 'an unparsable URL';
  }
}

/** `redis.url` / REDIS_URL: connects and PINGs, giving up after a few seconds. */
export async function redisFacts(loaded: LoadedConfig): Promise<Fact[]> {
  const url = loaded.config.redis.url;
  if (!url) return [ok('redis: not used (in-process queue; set REDIS_URL for `pantheon worker` processes)')];
  const where = redisWhere(url);
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const pong = await redis.ping();
    const policy = (await redis.config('GET', 'maxmemory-policy').catch(() => [])) as string[];
    const evicting = policy[1] && policy[1] !== 'noeviction';
    return [
      ok(`redis: ${where} answers (${pong})`),
      ...(evicting ? [fail(`redis: maxmemory-policy is ${policy[1]}, so Redis may drop queued jobs; fix: redis-cli CONFIG SET maxmemory-policy noeviction (and in redis.conf)`)] : []),
    ];
  } catch (err) {
    return [fail(`redis: ${where} does not answer (${(err as Error).message}); fix: start Redis there, or correct REDIS_URL / redis.url`)];
  } finally {
    redis.disconnect();
  }
}

/**
 * `infra.hosts` need their keys in `infra.knownHosts` (else ~/.ssh/known_hosts): an unknown key
 * is refused at connect time, so a missing entry is a problem found now rather than mid-job.
 */
export function knownHostsFacts(loaded: LoadedConfig, env: NodeJS.ProcessEnv = process.env): Fact[] {
  const { infra } = loaded.config;
  if (infra.hosts.length === 0) return [];
  const file = infra.knownHosts ?? join(env.HOME ?? homedir(), '.ssh', 'known_hosts');
  const keyscan = (h: { address: string; port: number }) => `ssh-keyscan -p ${h.port} ${h.address} >> ${file}`;
  if (!existsSync(file)) {
    return [fail(`known_hosts: ${file} does not exist, so every SSH host is refused; fix: ${infra.hosts.map(keyscan).join(' && ')} (then compare the fingerprints with the hosts')`)];
  }
  let entries: ReturnType<typeof readKnownHosts>;
  try {
    entries = readKnownHosts(file);
  } catch (err) {
    return [fail(`known_hosts: cannot read ${file} (${(err as Error).message}); fix: make it readable by this user`)];
  }
  return infra.hosts.map((host) => {
    const types = knownKeyTypes(entries, knownHostName(host.address, host.port));
    if (types.length) return ok(`known_hosts: ${host.name} (${host.address}:${host.port}) has a key on file (${types.join(', ')})`);
    return fail(
      `known_hosts: no key for ${host.name} (${host.address}:${host.port}) in ${file}, so connections to it are refused; fix: ${keyscan(host)} (then compare the fingerprint with the host's)`,
    );
  });
}
