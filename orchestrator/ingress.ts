import type pg from 'pg';
import type { Envelope, IngressSink } from '../core/chat/types.js';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import type { JobQueue } from '../core/queue/types.js';
import { statement } from '../core/db/statements.js';
import { storable } from '../core/db/storable-text.js';

export const INGRESS_QUEUE = 'ingress';

/** Jobs on the ingress queue: an inbound message, or "look at this thread again" (an approval was decided). */
export type IngressJob = { envelope: Envelope } | { drain: string };

/** The approval desk's `drain`: another look at a thread through the ingress queue, which resumes a decided run. */
export function scheduleDrain(queue: JobQueue) {
  return async (threadId: string) => {
    await queue.add<IngressJob>(INGRESS_QUEUE, 'drain', { drain: threadId }, { jobId: `drain:${threadId}:${Date.now()}:${Math.random().toString(36).slice(2, 6)}` });
  };
}

/**
 * The front door for every platform: normalise, ignore our own messages, dedupe, persist, enqueue.
 * The row in `inbound_messages` is the durable queue record; the queue job (keyed by the message
 * id) only says "look now". Whatever stops between the two (a crash, a queue that refused the
 * job) leaves the row pending, and `recover()`, at start and then periodically (`startSweep`),
 * queues every pending message that has no job: the queue's id dedupe makes that a no-op for the
 * ones already queued.
 */
export class Ingress {
  private sweep: NodeJS.Timeout | undefined;

  constructor(private readonly deps: { pool: pg.Pool; queue: JobQueue; metrics: Metrics; logger: Logger; isOwnIdentity?: (author: Envelope['author']) => boolean }) {}

  readonly accept: IngressSink = async (received, opts) => {
    const { pool, metrics, logger } = this.deps;
    // Every platform, the same: Postgres refuses NUL and jsonb lone surrogates (see storable-text.ts).
    const envelope = storable(received);
    if (envelope.author.isBot || this.deps.isOwnIdentity?.(envelope.author)) {
      return { id: envelope.id, accepted: false };
    }
    const inserted = await pool.query(
      statement(
        pool,
        'inbound_insert',
        `INSERT INTO inbound_messages (id, platform, conversation, author, text, payload)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
        [envelope.id, envelope.platform, envelope.threadId, envelope.author.id, envelope.text, JSON.stringify(envelope)],
      ),
    );
    if (inserted.rowCount === 0) {
      logger.debug({ inbound: envelope.id }, 'duplicate inbound message ignored');
      return { id: envelope.id, accepted: false };
    }
    metrics.inboundEvents.inc({ platform: envelope.platform });
    try {
      await opts?.recorded?.(envelope);
    } finally {
      await this.enqueue(envelope).catch((err: unknown) => {
        // Recorded: the sweep queues it. The sender's message is accepted either way.
        logger.warn({ err, inbound: envelope.id }, 'queueing an inbound message failed; the ingress sweep will queue it');
      });
    }
    return { id: envelope.id, accepted: true };
  };

  private enqueue(envelope: Envelope) {
    return this.deps.queue.add<IngressJob>(INGRESS_QUEUE, 'inbound', { envelope }, { jobId: envelope.id, attempts: 3, backoff: { type: 'exponential', delay: 500 } });
  }

  /**
   * Queues inbound messages still unanswered (a stop, a crash or a failed enqueue left them so);
   * those with a job already are left alone. Answers how many were queued.
   * `olderThanMs` skips messages that an `accept()` in flight is about to queue itself.
   */
  async recover(opts: { olderThanMs?: number } = {}): Promise<number> {
    const { rows } = await this.deps.pool.query<{ payload: Envelope }>(
      `SELECT payload FROM inbound_messages WHERE status IN ('pending', 'processing')
         AND received_at <= now() - $1 * interval '1 millisecond' ORDER BY received_at`,
      [opts.olderThanMs ?? 0],
    );
    let added = 0;
    for (const { payload } of rows) {
      // A payload stored before messages were normalised may still carry what the database refuses.
      if ((await this.enqueue(storable(payload))).added) added++;
    }
    if (added) this.deps.logger.info({ count: added }, 're-enqueued unfinished inbound messages');
    return added;
  }

  /** Runs `recover()` every `everyMs` until `stopSweep()`. */
  startSweep(everyMs = 30_000): void {
    this.stopSweep();
    this.sweep = setInterval(() => {
      void this.recover({ olderThanMs: everyMs / 2 }).catch((err: unknown) => this.deps.logger.warn({ err }, 'ingress sweep failed'));
    }, everyMs);
    this.sweep.unref();
  }

  stopSweep(): void {
    if (this.sweep) clearInterval(this.sweep);
    this.sweep = undefined;
  }
}
