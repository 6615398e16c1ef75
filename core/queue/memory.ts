import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import { backoffDelay } from './backoff.js';
import type { JobContext, JobHandler, JobOptions, JobQueue, JobState, QueueCounts, QueueEvent, WorkerOptions } from './types.js';

export interface MemoryQueueOptions {
  logger?: Logger;
  /**
   * How many finished job ids each named queue remembers, per outcome (completed, failed),
   * so a re-delivered `jobId` is still refused after its job ran. Oldest ids are forgotten
   * first. Default 10,000: enough to outlive any platform's webhook redelivery window.
   */
  keepFinished?: number;
}

interface MemoryJob {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly data: unknown;
  readonly attempts: number;
  readonly backoff: JobOptions['backoff'];
  attemptsMade: number;
  state: 'waiting' | 'delayed' | 'active';
  timer?: NodeJS.Timeout;
}

interface Worker {
  readonly handler: JobHandler<any, any>;
  readonly concurrency: number;
  running: number;
}

/** First-in first-out list with O(1) push and shift (Array#shift is O(n)). */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/** One named queue's jobs, workers and listeners. */
class NamedQueue {
  readonly waiting = new Fifo<MemoryJob>();
  /** Jobs not yet finished (waiting, delayed, active), by id: the dedupe set for live jobs. */
  readonly live = new Map<string, MemoryJob>();
  /** Finished ids in completion order (a Set iterates in insertion order), bounded. */
  readonly completed = new Set<string>();
  readonly failed = new Set<string>();
  readonly workers: Worker[] = [];
  readonly listeners = new Set<(event: QueueEvent) => void>();
  active = 0;
  delayed = 0;
  pumpScheduled = false;

  constructor(readonly name: string) {}
}

/**
 * The in-process queue: the embedded default, when no `REDIS_URL` is configured. Jobs live
 * in memory only, so they do not survive a restart; everything else (named queues, worker
 * concurrency, attempts with backoff, jobId dedupe, delays, events) behaves as BullQueue.
 *
 * Every chat message passes through here, so the path from `add()` to the handler starting
 * is kept to a map lookup, a push and one microtask.
 */
export class MemoryQueue implements JobQueue {
  readonly kind = 'memory' as const;
  private readonly queues = new Map<string, NamedQueue>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly keepFinished: number;
  private readonly logger?: Logger;
  private closing: Promise<void> | undefined;
  /** Set once close() has finished. While it drains, running handlers may still add jobs (they wait, unrun). */
  private closed = false;

  constructor(opts: MemoryQueueOptions = {}) {
    this.keepFinished = Math.max(0, opts.keepFinished ?? 10_000);
    this.logger = opts.logger;
  }

  async add<T>(queue: string, name: string, data: T, opts: JobOptions = {}): Promise<{ id: string; added: boolean }> {
    if (this.closed) throw new Error(`Cannot add job "${name}" to queue "${queue}": the queue is closed.`);
    if (opts.jobId === '') throw new Error('jobId must be a non-empty string (or left out for a fresh id).');
    const q = this.named(queue);
    const id = opts.jobId ?? randomUUID();
    if (q.live.has(id) || q.completed.has(id) || q.failed.has(id)) return { id, added: false };

    const job: MemoryJob = {
      id,
      name,
      queue,
      data,
      attempts: Math.max(1, opts.attempts ?? 1),
      backoff: opts.backoff,
      attemptsMade: 0,
      state: 'waiting',
    };
    q.live.set(id, job);
    if (opts.delay && opts.delay > 0) this.hold(q, job, opts.delay);
    else this.enqueue(q, job);
    return { id, added: true };
  }

  async process<T, R>(queue: string, handler: JobHandler<T, R>, opts: WorkerOptions = {}): Promise<void> {
    if (this.closing) throw new Error(`Cannot start a worker for queue "${queue}": the queue is closed.`);
    const q = this.named(queue);
    q.workers.push({ handler, concurrency: Math.max(1, opts.concurrency ?? 1), running: 0 });
    this.schedulePump(q);
  }

  on(queue: string, listener: (event: QueueEvent) => void): () => void {
    const q = this.named(queue);
    q.listeners.add(listener);
    return () => {
      q.listeners.delete(listener);
    };
  }

  async getState(queue: string, jobId: string): Promise<JobState> {
    const q = this.queues.get(queue);
    if (!q) return 'unknown';
    const job = q.live.get(jobId);
    if (job) return job.state;
    if (q.completed.has(jobId)) return 'completed';
    if (q.failed.has(jobId)) return 'failed';
    return 'unknown';
  }

  async counts(queue: string): Promise<QueueCounts> {
    const q = this.queues.get(queue);
    if (!q) return { waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 };
    return { waiting: q.waiting.length, active: q.active, delayed: q.delayed, completed: q.completed.size, failed: q.failed.size };
  }

  /** Stops starting jobs, drops pending timers, and waits for the handlers already running. */
  close(): Promise<void> {
    if (!this.closing) {
      for (const q of this.queues.values()) {
        for (const job of q.live.values()) if (job.timer) clearTimeout(job.timer);
      }
      this.closing = Promise.allSettled([...this.inFlight]).then(() => {
        this.closed = true;
      });
    }
    return this.closing;
  }

  private named(queue: string): NamedQueue {
    let q = this.queues.get(queue);
    if (!q) {
      q = new NamedQueue(queue);
      this.queues.set(queue, q);
    }
    return q;
  }

  private enqueue(q: NamedQueue, job: MemoryJob): void {
    job.state = 'waiting';
    q.waiting.push(job);
    this.schedulePump(q);
  }

  /** Delays a job. Re-arms if the timer fires early (Node timers may, by a millisecond). */
  private hold(q: NamedQueue, job: MemoryJob, delay: number): void {
    job.state = 'delayed';
    q.delayed++;
    const runAt = Date.now() + delay;
    const fire = (): void => {
      const left = runAt - Date.now();
      if (left > 0) {
        job.timer = setTimeout(fire, left);
        return;
      }
      job.timer = undefined;
      q.delayed--;
      this.enqueue(q, job);
    };
    job.timer = setTimeout(fire, delay);
  }

  /** Starts jobs on the next microtask, so handlers never run inside the caller's `add()`. */
  private schedulePump(q: NamedQueue): void {
    if (q.pumpScheduled || q.workers.length === 0) return;
    q.pumpScheduled = true;
    queueMicrotask(() => {
      q.pumpScheduled = false;
      this.pump(q);
    });
  }

  private pump(q: NamedQueue): void {
    while (!this.closing && q.waiting.length > 0) {
      const worker = q.workers.find((w) => w.running < w.concurrency);
      if (!worker) return;
      const job = q.waiting.shift()!;
      const run = this.run(q, worker, job);
      this.inFlight.add(run);
      void run.finally(() => this.inFlight.delete(run));
    }
  }

  private async run(q: NamedQueue, worker: Worker, job: MemoryJob): Promise<void> {
    job.state = 'active';
    q.active++;
    worker.running++;
    this.emit(q, { type: 'active', queue: q.name, jobId: job.id });
    const ctx: JobContext = {
      id: job.id,
      name: job.name,
      queue: job.queue,
      data: job.data,
      attemptsMade: job.attemptsMade,
      progress: async (progress) => this.emit(q, { type: 'progress', queue: q.name, jobId: job.id, progress }),
    };
    let result: unknown;
    let error: unknown;
    let ok = false;
    try {
      result = await worker.handler(ctx);
      ok = true;
    } catch (err) {
      error = err;
    }
    q.active--;
    worker.running--;
    if (ok) {
      this.finish(q, job, q.completed);
      this.emit(q, { type: 'completed', queue: q.name, jobId: job.id, result });
    } else {
      this.fail(q, job, error);
    }
    this.pump(q);
  }

  private fail(q: NamedQueue, job: MemoryJob, error: unknown): void {
    job.attemptsMade++;
    const message = error instanceof Error ? error.message : String(error);
    const willRetry = job.attemptsMade < job.attempts;
    if (willRetry) {
      const wait = backoffDelay(job.backoff, job.attemptsMade);
      // Once closing, no new timers: the job waits (and is dropped with the process).
      if (wait > 0 && !this.closing) this.hold(q, job, wait);
      else this.enqueue(q, job);
    } else {
      this.finish(q, job, q.failed);
    }
    this.emit(q, { type: 'failed', queue: q.name, jobId: job.id, error: message, willRetry });
  }

  private finish(q: NamedQueue, job: MemoryJob, into: Set<string>): void {
    q.live.delete(job.id);
    if (this.keepFinished === 0) return;
    into.add(job.id);
    if (into.size > this.keepFinished) into.delete(into.values().next().value!);
  }

  private emit(q: NamedQueue, event: QueueEvent): void {
    for (const listener of q.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.logger?.warn({ err, queue: q.name, event: event.type }, 'queue event listener threw');
      }
    }
  }
}
