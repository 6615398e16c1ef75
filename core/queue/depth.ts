import type { Gauge } from 'prom-client';
import type { JobQueue, QueueCounts } from './types.js';

/**
 * Samples each named queue's counts into the `pantheon_queue_depth{queue,state}` gauge every
 * `intervalMs` (and once right away). Sampling, rather than counting on every transition,
 * keeps the queues free of metrics code and works for jobs run by other processes.
 * Returns a function that stops sampling. The timer never keeps the process alive.
 */
export function watchQueueDepth(queue: JobQueue, names: string[], gauge: Gauge<'queue' | 'state'>, intervalMs = 15_000): () => void {
  let sampling = false;
  const sample = async (): Promise<void> => {
    if (sampling) return;
    sampling = true;
    try {
      for (const name of names) {
        const counts: QueueCounts = await queue.counts(name);
        for (const [state, value] of Object.entries(counts)) gauge.set({ queue: name, state }, value);
      }
    } catch {
      // A sample missed while Redis is unreachable; the next interval tries again.
    } finally {
      sampling = false;
    }
  };
  void sample();
  const timer = setInterval(() => void sample(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
