import { setTimeout as delay } from 'node:timers/promises';
import type { Transformer } from 'grammy';

/**
 * An API transformer that honours Telegram's flood limits: a 429 answer carries
 * `parameters.retry_after` (seconds); the call waits that long and is made again, so the
 * message is delivered late rather than lost. Only the waiting call is held: other chats'
 * posts go on. A wait longer than `maxWaitSeconds`, or too many 429s in a row, hands the error
 * back (the outbox retries the post later). `getUpdates` is left to grammY's own polling loop.
 */
export interface FloodWaitOptions {
  /** Longest single wait honoured in place (default 60 s). */
  maxWaitSeconds?: number;
  /** Calls made at most for one request (default 5). */
  maxAttempts?: number;
  /** Told about every wait (logging, metrics). */
  onWait?: (info: { method: string; retryAfter: number; attempt: number }) => void;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export function floodWait(opts: FloodWaitOptions = {}): Transformer {
  const maxWait = opts.maxWaitSeconds ?? 60;
  const maxAttempts = opts.maxAttempts ?? 5;
  const sleep = opts.sleep ?? abortableSleep;
  return async (prev, method, payload, signal) => {
    for (let attempt = 1; ; attempt++) {
      const res = await prev(method, payload, signal);
      if (res.ok || res.error_code !== 429 || method === 'getUpdates') return res;
      const retryAfter = res.parameters?.retry_after ?? 1;
      if (attempt >= maxAttempts || retryAfter > maxWait) return res;
      opts.onWait?.({ method, retryAfter, attempt });
      await sleep(retryAfter * 1000, signal as AbortSignal | undefined);
    }
  };
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal ? { signal } : undefined);
}
