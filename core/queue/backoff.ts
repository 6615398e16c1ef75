import type { JobOptions } from './types.js';

/**
 * Milliseconds to wait before the next try, given how many tries have already failed
 * (1 after the first failure). The same formula as BullMQ's built-in strategies, so both
 * queue kinds space retries identically: fixed waits `delay` every time, exponential waits
 * `delay * 2^(failures - 1)` (delay, 2×delay, 4×delay, ...).
 */
export function backoffDelay(backoff: JobOptions['backoff'], failures: number): number {
  if (!backoff || backoff.delay <= 0) return 0;
  if (backoff.type === 'exponential') return Math.round(2 ** (failures - 1) * backoff.delay);
  return backoff.delay;
}
