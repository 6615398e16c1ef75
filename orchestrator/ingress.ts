import type pg from 'pg';
import type { Envelope, IngressSink } from '../channels/types.js';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import type { JobQueue } from '../core/queue/types.js';
import { statement } from '../core/db/statements.js';

export const INGRESS_QUEUE = 'ingress';

/** Jobs on the ingress queue: an inbound message, or "look at this thread again" (an approval was decided). */
export type IngressJob = { envelope: Envelope } | { drain: string };

/**
 * The front door for every platform: ignore our own messages, dedupe, persist, enqueue.
 * The row in `inbound_messages` is the durable copy (the embedded queue lives in memory);
 * `recover()` re-enqueues whatever a crash left unfinished.
 */
export class Ingress {
  constructor(
    private readonly deps: { pool: pg.Pool; queue: JobQueue; metrics: Metrics; logger: Logger; isOwnIdentity?: (author: Envelope['author']) => boolean },
  ) {}

  readonly accept: IngressSink = async (envelope) => {
    const { pool, queue, metrics, logger } = this.deps;
    if (envelope.author.isBot || this.deps.isOwnIdentity?.(envelope.author)) {
      return { id: envelope.id, accepted: false };
    }
    const inserted = await pool.query(statement(pool, 'inbound_insert',
      `INSERT INTO inbound_messages (id, channel, conversation, author, text, payload)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
      [envelope.id, envelope.channel, envelope.threadId, envelope.author.id, envelope.text, JSON.stringify(envelope)],
    ));
    if (inserted.rowCount === 0) {
      logger.debug({ inbound: envelope.id }, 'duplicate inbound message ignored');
      return { id: envelope.id, accepted: false };
    }
    metrics.inboundEvents.inc({ channel: envelope.channel });
    await queue.add<IngressJob>(INGRESS_QUEUE, 'inbound', { envelope }, { jobId: envelope.id, attempts: 3, backoff: { type: 'exponential', delay: 500 } });
    return { id: envelope.id, accepted: true };
  };

  /** Re-enqueues inbound messages not finished before the last stop. */
  async recover(): Promise<number> {
    const { rows } = await this.deps.pool.query<{ payload: Envelope }>(
      `SELECT payload FROM inbound_messages WHERE status IN ('pending', 'processing') ORDER BY received_at`,
    );
    for (const { payload } of rows) {
      await this.deps.queue.add<IngressJob>(INGRESS_QUEUE, 'inbound', { envelope: payload }, { jobId: payload.id, attempts: 3, backoff: { type: 'exponential', delay: 500 } });
    }
    if (rows.length) this.deps.logger.info({ count: rows.length }, 're-enqueued unfinished inbound messages');
    return rows.length;
  }
}
