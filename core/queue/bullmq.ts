import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Queue, QueueEvents, Worker, UnrecoverableError, type Job, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { fromBullJobId, toBullJobId } from './bull-job-id.js';
import type { JobContext, JobHandler, JobOptions, JobQueue, JobState, QueueCounts, QueueEvent, WorkerOptions } from './types.js';

export interface BullQueueOptions {
  redisUrl: string;
  /** Redis key prefix for every queue. Default `pantheon`; tests use a random one and delete its keys. */
  prefix?: string;
  logger?: Logger;
  /** Finished jobs kept per queue and outcome, so `jobId` dedupe outlives completion. Default 10,000. */
  keepFinished?: number;
}

/**
 * BullMQ reports a failed try only when no retry follows (a retried job emits `delayed` or
 * `waiting`). Workers publish this event on the queue's own event stream for tries that
 * will be retried, so `on()` listeners in any process see every failure.
 */
const RETRYING_EVENT = 'pantheon-retrying';
/** A job whose worker stopped renewing its lock for this long is handed to another worker (renewed every half of it). */
const STALLED_AFTER_MS = 10_000;

/** An `on()` subscription per queue: one QueueEvents reader shared by its listeners. */
interface Subscription {
  readonly listeners: Set<(event: QueueEvent) => void>;
  /** Resolves once the reader's starting point in the event stream is fixed. */
  ready: Promise<void>;
  events?: QueueEvents;
}

/**
 * The durable queue: BullMQ on Redis, chosen when `REDIS_URL` is set. Jobs survive restarts
 * and can be processed by workers in other processes; `on()` reads the queue's Redis event
 * stream, so it sees jobs run anywhere.
 *
 * Connections: one shared client for every `Queue` (adds, reads) and for bookkeeping, plus
 * BullMQ's own blocking connections per `Worker` and per `QueueEvents`.
 */
export class BullQueue implements JobQueue {
  readonly kind = 'bullmq' as const;
  private readonly url: string;
  private readonly prefix: string;
  private readonly keep: number;
  private readonly logger?: Logger;
  private readonly client: Redis;
  private readonly queues = new Map<string, Queue>();
  private readonly workers: Worker[] = [];
  private readonly subscriptions = new Map<string, Subscription>();
  private closing: Promise<void> | undefined;

  constructor(opts: BullQueueOptions) {
    this.url = opts.redisUrl;
    this.prefix = opts.prefix ?? 'pantheon';
    this.keep = Math.max(1, opts.keepFinished ?? 10_000);
    this.logger = opts.logger;
    // BullMQ requires maxRetriesPerRequest: null on connections it is handed.
    this.client = new Redis(this.url, { maxRetriesPerRequest: null });
    this.client.on('error', (err) => this.logger?.warn({ err: err.message }, 'redis connection error (queue)'));
  }

  async add<T>(queue: string, name: string, data: T, opts: JobOptions = {}): Promise<{ id: string; added: boolean }> {
    this.assertOpen(`add job "${name}" to queue "${queue}"`);
    if (opts.jobId === '') throw new Error('jobId must be a non-empty string (or left out for a fresh id).');
    // A listener registered before this add must see this job's events.
    const sub = this.subscriptions.get(queue);
    if (sub) await sub.ready;

    const id = opts.jobId ?? randomUUID();
    const bullId = toBullJobId(id);
    const q = this.queue(queue);
    // BullMQ answers the same way whether or not the id already existed; a nonce stored in
    // the job's options tells whether this call is the one that created it.
    const nonce = randomUUID();
    const jobOpts: JobsOptions & { pantheonAddId: string } = {
      jobId: bullId,
      attempts: Math.max(1, opts.attempts ?? 1),
      backoff: opts.backoff,
      delay: opts.delay && opts.delay > 0 ? opts.delay : undefined,
      removeOnComplete: { count: this.keep },
      removeOnFail: { count: this.keep },
      pantheonAddId: nonce,
    };
    await q.add(name, data, jobOpts);
    const stored = await this.client.hget(q.toKey(bullId), 'opts');
    const added = stored !== null && (JSON.parse(stored) as { pantheonAddId?: string }).pantheonAddId === nonce;
    return { id, added };
  }

  async process<T, R>(queue: string, handler: JobHandler<T, R>, opts: WorkerOptions = {}): Promise<void> {
    this.assertOpen(`start a worker for queue "${queue}"`);
    const worker = new Worker(queue, (job: Job) => this.run(queue, job, handler as JobHandler), {
      connection: { url: this.url },
      prefix: this.prefix,
      concurrency: Math.max(1, opts.concurrency ?? 1),
      removeOnComplete: { count: this.keep },
      removeOnFail: { count: this.keep },
      // A worker killed mid-job (kill -9, a lost machine) leaves the job active with a lock nobody
      // renews; BullMQ's default (a 30 s lock, checked every 30 s) would hand it on after up to a
      // minute. A turn in flight must be answered by another process within 30 s of its death.
      lockDuration: STALLED_AFTER_MS,
      stalledInterval: STALLED_AFTER_MS / 2,
    });
    worker.on('error', (err) => this.logger?.error({ err: err.message, queue }, 'queue worker error'));
    this.workers.push(worker);
    await worker.waitUntilReady();
  }

  on(queue: string, listener: (event: QueueEvent) => void): () => void {
    let sub = this.subscriptions.get(queue);
    if (!sub) {
      const created: Subscription = { listeners: new Set(), ready: Promise.resolve() };
      created.ready = this.subscribe(queue, created).catch((err: unknown) => {
        this.logger?.error({ err: errorMessage(err), queue }, 'could not subscribe to queue events');
      });
      this.subscriptions.set(queue, created);
      sub = created;
    }
    const listeners = sub.listeners;
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  async getState(queue: string, jobId: string): Promise<JobState> {
    const state = await this.queue(queue).getJobState(toBullJobId(jobId));
    switch (state) {
      case 'waiting':
      case 'prioritized':
      case 'waiting-children':
        return 'waiting';
      case 'delayed':
      case 'active':
      case 'completed':
      case 'failed':
        return state;
      default:
        return 'unknown';
    }
  }

  async counts(queue: string): Promise<QueueCounts> {
    const c = await this.queue(queue).getJobCounts('waiting', 'prioritized', 'waiting-children', 'active', 'delayed', 'completed', 'failed');
    const n = (k: string): number => c[k] ?? 0;
    return {
      waiting: n('waiting') + n('prioritized') + n('waiting-children'),
      active: n('active'),
      delayed: n('delayed'),
      completed: n('completed'),
      failed: n('failed'),
    };
  }

  /** Workers first (their active jobs finish), then event readers, queues and the shared client. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // Jobs still running may add jobs (e.g. an outbox post) until their workers have stopped.
      await Promise.allSettled(this.workers.map((w) => w.close()));
      this.closed = true;
      const subs = [...this.subscriptions.values()];
      await Promise.allSettled(subs.map((s) => s.ready));
      await Promise.allSettled(subs.map((s) => s.events?.close()));
      await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
      await this.client.quit().catch(() => this.client.disconnect());
    })();
    return this.closing;
  }

  private closed = false;

  private assertOpen(action: string): void {
    if (this.closed) throw new Error(`Cannot ${action}: the queue is closed.`);
  }

  private queue(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.client, prefix: this.prefix });
      q.on('error', (err) => this.logger?.warn({ err: err.message, queue: name }, 'queue error'));
      this.queues.set(name, q);
    }
    return q;
  }

  private async run(queue: string, job: Job, handler: JobHandler): Promise<unknown> {
    const ctx: JobContext = {
      id: fromBullJobId(job.id!),
      name: job.name,
      queue,
      data: job.data,
      attemptsMade: job.attemptsMade,
      progress: (value) => job.updateProgress(value),
    };
    try {
      return await handler(ctx);
    } catch (thrown) {
      const err = thrown instanceof Error ? thrown : new Error(String(thrown));
      const willRetry = job.attemptsMade + 1 < (job.opts.attempts ?? 1) && !(err instanceof UnrecoverableError);
      if (willRetry) await this.announceRetry(queue, job.id!, err.message);
      throw err;
    }
  }

  private async announceRetry(queue: string, bullId: string, reason: string): Promise<void> {
    try {
      await this.client.xadd(this.queue(queue).keys.events!, 'MAXLEN', '~', '10000', '*', 'event', RETRYING_EVENT, 'jobId', bullId, 'failedReason', reason);
    } catch (err) {
      this.logger?.warn({ err: errorMessage(err), queue }, 'could not publish a retry event');
    }
  }

  /**
   * Starts reading the queue's event stream from its current last entry (not from "now" as
   * BullMQ's default `$` does, which would lose events added before the first blocking read).
   */
  private async subscribe(queue: string, sub: Subscription): Promise<void> {
    const last = await this.client.xrevrange(this.queue(queue).keys.events!, '+', '-', 'COUNT', 1);
    if (this.closing) return;
    const events = new QueueEvents(queue, {
      connection: { url: this.url },
      prefix: this.prefix,
      autorun: false,
      lastEventId: last[0]?.[0] ?? '0-0',
    });
    sub.events = events;
    const emit = (event: QueueEvent): void => {
      for (const listener of sub.listeners) {
        try {
          listener(event);
        } catch (err) {
          this.logger?.warn({ err: errorMessage(err), queue, event: event.type }, 'queue event listener threw');
        }
      }
    };
    events.on('error', (err) => this.logger?.warn({ err: err.message, queue }, 'queue events error'));
    events.on('active', ({ jobId }) => emit({ type: 'active', queue, jobId: fromBullJobId(jobId) }));
    events.on('progress', ({ jobId, data }) => emit({ type: 'progress', queue, jobId: fromBullJobId(jobId), progress: data as number | Record<string, unknown> }));
    events.on('completed', ({ jobId, returnvalue }) => emit({ type: 'completed', queue, jobId: fromBullJobId(jobId), result: returnvalue }));
    events.on('failed', ({ jobId, failedReason }) => emit({ type: 'failed', queue, jobId: fromBullJobId(jobId), error: failedReason, willRetry: false }));
    // A custom event name is outside QueueEvents' typed listener map.
    (events as unknown as EventEmitter).on(RETRYING_EVENT, ({ jobId, failedReason }: { jobId: string; failedReason: string }) =>
      emit({ type: 'failed', queue, jobId: fromBullJobId(jobId), error: failedReason, willRetry: true }),
    );
    events.run().catch((err: unknown) => {
      if (!this.closing) this.logger?.error({ err: errorMessage(err), queue }, 'queue events reader stopped');
    });
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
