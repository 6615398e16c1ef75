/**
 * One job-queue interface with two implementations: BullMQ on Redis (`REDIS_URL` set) and an
 * in-process queue (the embedded default). Both have the same semantics, proven by one
 * contract suite (test/core/queue.contract.test.ts):
 *
 * - named queues; each `process()` call starts a worker with its own concurrency;
 * - `attempts` with fixed or exponential `backoff` between tries;
 * - `jobId` dedupes: adding a job whose id is already known (waiting, delayed, active,
 *   or kept after completion/failure) adds nothing and answers `{ added: false }`;
 * - `delay` holds a job back before it becomes runnable;
 * - progress events reach `on()` listeners, as do active, completed and failed.
 */
export interface JobOptions {
  /** Dedupe key. Defaults to a fresh unique id. */
  jobId?: string;
  /** Total tries, first included. Default 1. */
  attempts?: number;
  backoff?: { type: 'fixed' | 'exponential'; delay: number };
  /** Milliseconds before the job may run. */
  delay?: number;
}

interface JobInfo<T = unknown> {
  id: string;
  name: string;
  queue: string;
  data: T;
  /** Tries already finished (failed) before this one. */
  attemptsMade: number;
}

export interface JobContext<T = unknown> extends JobInfo<T> {
  progress(value: number | Record<string, unknown>): Promise<void>;
}

export type JobHandler<T = unknown, R = unknown> = (job: JobContext<T>) => Promise<R>;

export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed' | 'unknown';

export type QueueEvent =
  | { type: 'active'; queue: string; jobId: string }
  | { type: 'progress'; queue: string; jobId: string; progress: number | Record<string, unknown> }
  | { type: 'completed'; queue: string; jobId: string; result: unknown }
  | { type: 'failed'; queue: string; jobId: string; error: string; willRetry: boolean };

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
}

export interface WorkerOptions {
  concurrency?: number;
}

export interface JobQueue {
  readonly kind: 'memory' | 'bullmq';
  add<T>(queue: string, name: string, data: T, opts?: JobOptions): Promise<{ id: string; added: boolean }>;
  /** Starts a worker for `queue`. Resolves once the worker is ready to take jobs. */
  process<T, R>(queue: string, handler: JobHandler<T, R>, opts?: WorkerOptions): Promise<void>;
  /** Listens to one queue's events (from any process, for BullMQ). Returns an unsubscribe function. */
  on(queue: string, listener: (event: QueueEvent) => void): () => void;
  getState(queue: string, jobId: string): Promise<JobState>;
  counts(queue: string): Promise<QueueCounts>;
  /** Stops workers (letting active jobs finish) and closes connections. */
  close(): Promise<void>;
}
