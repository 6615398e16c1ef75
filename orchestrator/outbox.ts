import type pg from 'pg';
import type { PlatformAdapter, OutboundMessage, PostResult } from '../core/chat/types.js';
import type { PostedListener } from '../core/chat/outbox.js';
import type { Logger } from '../core/log.js';
import type { JobQueue } from '../core/queue/types.js';
import { ThreadLocks } from './thread-lock.js';
import { OutboundRateLimiter, type RateLimit } from './rate-limiter.js';
import { statement } from '../core/db/statements.js';
import { storable, storableText } from '../core/db/storable-text.js';

export const OUTBOX_QUEUE = 'outbox';

interface OutboxJob {
  message: OutboundMessage;
}

/**
 * Everything the team says goes through here: the message is recorded under its idempotency key,
 * then delivered from the queue with retries. A replayed send (a retried job, a run resumed after a
 * crash) finds the key already recorded and posts nothing new.
 */
export class Outbox {
  private readonly adapters = new Map<string, PlatformAdapter>();
  /** Posts to one thread go out in the order they were queued, even with several deliveries in flight. */
  private readonly threads = new ThreadLocks();

  private readonly limiter: OutboundRateLimiter;
  private readonly postedListeners: PostedListener[] = [];

  constructor(private readonly deps: { pool: pg.Pool; queue: JobQueue; logger: Logger; rateLimits?: Record<string, RateLimit>; limiter?: OutboundRateLimiter }) {
    this.limiter = deps.limiter ?? new OutboundRateLimiter(deps.rateLimits);
  }

  register(adapter: PlatformAdapter): void {
    this.adapters.set(adapter.name, adapter);
  }

  /**
   * The after-post hook: `listener` hears of every message an adapter posted, with the adapter's
   * answer (the GitHub ledger sync repeats a persona's GitHub comment in its work's origin thread).
   * It runs before the message is marked sent, so a post retried after a crash tells it again;
   * its failure is logged and never fails the post.
   */
  onPosted(listener: PostedListener): void {
    this.postedListeners.push(listener);
  }

  /** Best effort "is typing" in a thread, where the platform shows it; never fails a run. */
  async typing(platform: string, threadId: string, persona?: string): Promise<void> {
    const adapter = this.adapters.get(platform);
    if (!adapter?.typing) return;
    await adapter.typing(threadId, persona).catch((err: unknown) => this.deps.logger.debug({ err, platform, threadId }, 'typing indicator failed'));
  }

  /** A private thread with a person on a platform, where its adapter can open one. */
  directThreadFor(platform: string, userId: string): string | undefined {
    return this.adapters.get(platform)?.directThreadId?.(userId);
  }

  /** Whether the thread's platform can edit a message in place. */
  canEdit(platform: string): boolean {
    return typeof this.adapters.get(platform)?.edit === 'function';
  }

  /** `queued` is false when the key was sent before: nothing new goes out. */
  async send(said: OutboundMessage): Promise<{ queued: boolean }> {
    // A model may answer with what the database refuses (NUL, a lone surrogate): normalised here,
    // where every message the team says passes, before anything stores it (see storable-text.ts).
    const message = storable(said);
    const adapter = this.adapters.get(message.platform);
    if (adapter?.durablePost) {
      if (message.replaces && adapter.edit) {
        // Our own store: the replaced message's id is its idempotency key.
        await this.threads.run(message.threadId, () => adapter.edit!(message.threadId, message.replaces!, message));
        return { queued: true };
      }
      const result = await this.threads.run(message.threadId, () => adapter.post(message));
      if (this.postedListeners.length) await this.posted(message, result);
      return { queued: !result.duplicate };
    }
    const inserted = await this.deps.pool.query(
      statement(
        this.deps.pool,
        'outbox_insert',
        `INSERT INTO outbox (idempotency_key, platform, conversation, persona, payload)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING`,
        [message.idempotencyKey, message.platform, message.threadId, message.persona ?? null, JSON.stringify(message)],
      ),
    );
    if (inserted.rowCount === 0) return { queued: false };
    await this.enqueue(message);
    return { queued: true };
  }

  private enqueue(message: OutboundMessage) {
    return this.deps.queue.add<OutboxJob>(
      OUTBOX_QUEUE,
      'post',
      { message },
      {
        jobId: message.idempotencyKey,
        attempts: 8,
        backoff: { type: 'exponential', delay: 1000 },
      },
    );
  }

  /** The queue handler: posts through the platform's adapter and marks the row sent. */
  deliver(message: OutboundMessage): Promise<void> {
    return this.threads.run(message.threadId, () => this.deliverNow(message));
  }

  private async deliverNow(message: OutboundMessage): Promise<void> {
    const adapter = this.adapters.get(message.platform);
    if (!adapter) throw new Error(`no adapter for the platform "${message.platform}" is running in this process`);
    await this.limiter.take(message.platform, message.threadId);
    try {
      const result = message.replaces && adapter.edit ? await this.editOrPost(adapter, message) : await this.post(adapter, message);
      await this.deps.pool.query(`UPDATE outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, result = $2 WHERE idempotency_key = $1`, [
        message.idempotencyKey,
        JSON.stringify(result),
      ]);
    } catch (err) {
      await this.deps.pool.query(`UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE idempotency_key = $1`, [
        message.idempotencyKey,
        storableText(String((err as Error).message ?? err)).slice(0, 2000),
      ]);
      throw err;
    }
  }

  /**
   * An edit of an earlier message: once that message is out, its platform id is on record and the
   * adapter edits it in place. Not out yet: retry later (posts to a thread go in order, so this is rare).
   */
  private async editOrPost(adapter: PlatformAdapter, message: OutboundMessage): Promise<PostResult> {
    const { rows } = await this.deps.pool.query<{ status: string; result: PostResult | null }>('SELECT status, result FROM outbox WHERE idempotency_key = $1', [message.replaces]);
    const original = rows[0];
    if (!original) return this.post(adapter, message);
    if (original.status !== 'sent' || !original.result?.id) throw new Error(`message ${message.replaces} is not posted yet; its edit waits`);
    await adapter.edit!(message.threadId, original.result.id, message);
    return { id: original.result.id };
  }

  private async post(adapter: PlatformAdapter, message: OutboundMessage): Promise<PostResult> {
    const result = await adapter.post(message);
    if (this.postedListeners.length) await this.posted(message, result);
    return result;
  }

  private async posted(message: OutboundMessage, result: PostResult): Promise<void> {
    for (const listener of this.postedListeners) {
      try {
        await listener(message, result);
      } catch (err) {
        this.deps.logger.warn({ err: (err as Error).message, key: message.idempotencyKey, platform: message.platform }, 'an after-post listener failed');
      }
    }
  }

  async startWorker(concurrency = 8): Promise<void> {
    await this.deps.queue.process<OutboxJob, void>(OUTBOX_QUEUE, (job) => this.deliver(job.data.message), { concurrency });
  }

  async recover(): Promise<number> {
    const { rows } = await this.deps.pool.query<{ payload: OutboundMessage }>(`SELECT payload FROM outbox WHERE status = 'pending' ORDER BY created_at`);
    for (const { payload } of rows) await this.enqueue(payload);
    if (rows.length) this.deps.logger.info({ count: rows.length }, 're-enqueued unsent outbox messages');
    return rows.length;
  }
}
