import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { ThreadSql, type ThreadOpening } from './turn/thread-sql.js';

/**
 * How long a thread stays held after its holder stops renewing (it renews every third of this).
 * Short, because a process killed mid-turn holds its thread this long: with the queue's stalled-job
 * check (core/queue/bullmq.ts, 10 s) another worker answers the turn within about 15 s of the kill.
 */
const THREAD_LEASE_MS = 10_000;

/**
 * One run at a time per thread across processes (BullMQ workers): a lease row in Postgres,
 * taken when free or expired, renewed while the run lasts, released at the end. (Advisory locks
 * would be simpler, but through pglite-socket every connection shares one session.) The row also
 * remembers whether the thread was left clean (no run pending, nothing paused): it is marked not
 * clean while held, so a holder that dies mid-run leaves it for the next one to read and resume.
 * The statements are the thread's (turn/thread-sql.ts); a drain releases the lease with its
 * finishing statement (ThreadSql.finish), or here when it failed.
 */
export class ThreadLeases {
  readonly owner = `${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly sql: ThreadSql;

  constructor(
    pool: pg.Pool,
    private readonly ttlMs = THREAD_LEASE_MS,
  ) {
    this.sql = new ThreadSql(pool);
  }

  /**
   * Takes the thread when it is free, expired or already ours, and reads what waits in it in the
   * same statement. Answers null when another process holds it.
   */
  tryAcquire(thread: string): Promise<ThreadOpening | null> {
    return this.sql.take(thread, this.owner, this.ttlMs);
  }

  /** Extends a lease we hold. */
  renew(thread: string): Promise<void> {
    return this.sql.renew(thread, this.owner, this.ttlMs);
  }

  release(thread: string, clean: boolean): Promise<void> {
    return this.sql.release(thread, this.owner, clean);
  }

  /** Renews the lease while the holder works (a third of its time to live apart); the answer stops renewing. */
  keepAlive(thread: string): () => void {
    const timer = setInterval(() => void this.renew(thread).catch(() => {}), Math.max(1000, this.ttlMs / 3));
    timer.unref();
    return () => clearInterval(timer);
  }
}
