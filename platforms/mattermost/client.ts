import mattermost from '@mattermost/client';
import { setTimeout as sleep } from 'node:timers/promises';

// The package is CommonJS; Node's ESM loader sees only its default export.
const { Client4, ClientError } = mattermost;

/** The official REST client (API v4), one per bot token. */
export type MattermostClient = InstanceType<typeof Client4>;

/** A REST client for `baseUrl` (e.g. `https://chat.example.com`) authenticated as one bot. */
export function createMattermostClient(baseUrl: string, token: string): MattermostClient {
  const client = new Client4();
  client.setUrl(baseUrl.replace(/\/+$/, ''));
  client.setToken(token);
  return client;
}

/** `ws(s)://…/api/v4/websocket` for a server at `baseUrl`. */
export function socketUrl(baseUrl: string): string {
  const url = new URL(baseUrl.replace(/\/+$/, '') + '/api/v4/websocket');
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** The HTTP status of a failed API call, when the server said (Mattermost's JSON errors carry it). */
export function statusOf(err: unknown): number | undefined {
  if (err instanceof ClientError && typeof err.status_code === 'number') return err.status_code;
  return undefined;
}

/**
 * Runs an API call, waiting out rate limits (429) a few times before giving up; the outbox
 * retries what still fails, later. Client4 does not expose Retry-After, so the wait grows by
 * a second per attempt (Mattermost's limiter refills per second).
 */
export async function withRateLimit<T>(call: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (statusOf(err) !== 429 || attempt >= attempts) throw err;
      await sleep(1000 * attempt);
    }
  }
}
