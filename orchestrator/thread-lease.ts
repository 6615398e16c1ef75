import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { statement } from '../core/db/statements.js';

/**
 * One run at a time per thread across processes (BullMQ workers): a lease row in Postgres,
 * taken when free or expired, renewed while the run lasts, released at the end. (Advisory locks
 * would be simpler, but through pglite-socket every connection shares one session.) The row also
 * remembers whether the thread was left clean (no run pending, nothing paused).
 */
export class ThreadLeases {
  private readonly owner = `${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(private readonly pool: pg.Pool, private readonly ttlMs = 30_000) {}

  /** Answers null when another process holds the thread, else whether it was left clean. */
  async tryAcquire(thread: string): Promise<{ clean: boolean } | null> {
    const { rows } = await this.pool.query<{ clean: boolean }>(statement(this.pool, 'lease_acquire',
      `INSERT INTO thread_leases (thread, owner, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
       ON CONFLICT (thread) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
       WHERE thread_leases.expires_at < now() OR thread_leases.owner = EXCLUDED.owner
       RETURNING clean`,
      [thread, this.owner, this.ttlMs],
    ));
    return rows[0] ? { clean: rows[0].clean } : null;
  }

  async release(thread: string, clean: boolean): Promise<void> {
    await this.pool.query(statement(this.pool, 'lease_release',
      `UPDATE thread_leases SET expires_at = now() - interval '1 second', clean = $3 WHERE thread = $1 AND owner = $2`,
      [thread, this.owner, clean],
    ));
  }

  /** Runs `fn` holding the lease (renewed while it runs); `ran: false` when another process holds it. */
  async withLease(thread: string, fn: (clean: boolean) => Promise<boolean>): Promise<{ ran: boolean }> {
    const lease = await this.tryAcquire(thread);
    if (!lease) return { ran: false };
    const renew = setInterval(() => void this.tryAcquire(thread).catch(() => {}), Math.max(1000, this.ttlMs / 3));
    renew.unref();
    let clean = false;
    try {
      clean = await fn(lease.clean);
    } finally {
      clearInterval(renew);
      await this.release(thread, clean);
    }
    return { ran: true };
  }
}
