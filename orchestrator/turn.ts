import type pg from 'pg';
import { INGRESS_QUEUE, type IngressJob } from './ingress.js';
import type { TurnDeps } from './turn/deps.js';
import { drain } from './turn/drain.js';
import { takeThread } from './turn/take-thread.js';
import { ThreadSql, type Finish } from './turn/thread-sql.js';

export type { TurnDeps };

const sqlByPool = new WeakMap<pg.Pool, ThreadSql>();
const sqlFor = (pool: pg.Pool) => sqlByPool.get(pool) ?? sqlByPool.set(pool, new ThreadSql(pool)).get(pool)!;

/**
 * An ingress job (a message arrived, or "look at this thread again"), as the message travels:
 * 1. the thread's lock in this process: one drain at a time per thread;
 * 2. taking the thread (its lease, across processes) reads what waits in it, in one statement;
 * 3. the drain (turn/drain.ts): the steps before routing as one chain, then one turn;
 * 4. its end writes what it did (runs, messages answered) and lets the thread go, in one statement.
 * Every statement about the thread is in turn/thread-sql.ts.
 */
export async function handleIngressJob(deps: TurnDeps, job: IngressJob): Promise<void> {
  const thread = 'envelope' in job ? job.envelope.threadId : job.drain;
  const sql = sqlFor(deps.pool);
  const unlock = await deps.locks.acquire(thread);
  try {
    const taken = await takeThread({ sql, leases: deps.leases, cleanThreads: deps.cleanThreads }, thread);
    if (!taken) {
      // Another process holds the thread: it drains what is pending before it lets go, but a
      // message may land just after its last look, so look again shortly.
      await deps.queue.add<IngressJob>(INGRESS_QUEUE, 'drain', { drain: thread }, { delay: 500, jobId: `drain:${thread}:${Date.now()}` });
      return;
    }
    const finish: Finish = { runs: [], done: [] };
    let clean: boolean;
    try {
      clean = await drain(deps, sql, thread, taken.opening, finish);
    } catch (err) {
      await taken.abandon(finish);
      throw err;
    }
    await taken.end(finish, clean);
  } finally {
    unlock();
  }
}
