import type pg from 'pg';
import type { JobQueue } from '../../core/queue/types.js';

export const GITHUB_EVENTS_QUEUE = 'github-events';

/** A queued webhook delivery: the payload is read back from `github_deliveries`. */
export interface GitHubEventJob {
  deliveryId: string;
}

export interface StoredDelivery {
  id: string;
  event: string;
  payload: unknown;
  status: 'pending' | 'done' | 'failed';
}

/**
 * Signed webhook deliveries, stored before they are acknowledged: the row is the durable copy
 * (the embedded queue lives in memory) and its primary key, X-GitHub-Delivery, dedupes redeliveries.
 */
export class GitHubDeliveries {
  constructor(private readonly deps: { pool: pg.Pool; queue: JobQueue }) {}

  /** Stores and enqueues a delivery; false when this delivery id was seen before. */
  async accept(d: { id: string; event: string; action?: string; payload: unknown }): Promise<boolean> {
    const inserted = await this.deps.pool.query(`INSERT INTO github_deliveries (id, event, action, payload) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`, [
      d.id,
      d.event,
      d.action ?? null,
      JSON.stringify(d.payload),
    ]);
    if (inserted.rowCount === 0) return false;
    await this.enqueue(d.id);
    return true;
  }

  async get(id: string): Promise<StoredDelivery | undefined> {
    const { rows } = await this.deps.pool.query<StoredDelivery>('SELECT id, event, payload, status FROM github_deliveries WHERE id = $1', [id]);
    return rows[0];
  }

  async finish(id: string, error?: string): Promise<void> {
    await this.deps.pool.query(`UPDATE github_deliveries SET status = $2, error = $3, processed_at = now() WHERE id = $1`, [id, error ? 'failed' : 'done', error?.slice(0, 2000) ?? null]);
  }

  /** Re-enqueues deliveries a stop or crash left unprocessed. */
  async recover(): Promise<number> {
    const { rows } = await this.deps.pool.query<{ id: string }>(`SELECT id FROM github_deliveries WHERE status = 'pending' ORDER BY received_at`);
    for (const { id } of rows) await this.enqueue(id);
    return rows.length;
  }

  private enqueue(id: string) {
    return this.deps.queue.add<GitHubEventJob>(
      GITHUB_EVENTS_QUEUE,
      'delivery',
      { deliveryId: id },
      {
        jobId: `github-delivery:${id}`,
        attempts: 5,
        backoff: { type: 'exponential', delay: 1000 },
      },
    );
  }
}
