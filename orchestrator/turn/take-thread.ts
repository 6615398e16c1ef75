import type { ThreadLeases } from '../thread-lease.js';
import type { Finish, ThreadOpening, ThreadSql } from './thread-sql.js';

/**
 * A thread taken for one drain: what waits in it (read in the statement that took it), and the
 * drain's two ways out. `end` writes what the drain did and lets the thread go, in one statement;
 * `abandon` is for a drain that threw: the thread is left not clean, for the next drain to read.
 */
interface TakenThread {
  opening: ThreadOpening;
  end(finish: Finish, clean: boolean): Promise<void>;
  abandon(finish: Finish): Promise<void>;
}

interface TakeDeps {
  sql: ThreadSql;
  /** Set when several processes run workers (BullMQ): one drain per thread across them. */
  leases?: ThreadLeases;
  /** Threads this process left with no run in progress and nothing paused (only used without leases). */
  cleanThreads: Set<string>;
}

/**
 * Takes a thread this process already holds the lock of. Alone (no leases), it is always ours,
 * and this process remembers which threads it left clean; with leases, another process may hold
 * it (null), and the lease row remembers how its last holder left it.
 */
export async function takeThread(deps: TakeDeps, thread: string): Promise<TakenThread | null> {
  const { sql, leases, cleanThreads } = deps;
  if (!leases) {
    const { neverRun, pending, latest } = await sql.open(thread);
    const leave = (clean: boolean) => (clean ? cleanThreads.add(thread) : cleanThreads.delete(thread));
    return {
      opening: { clean: neverRun || cleanThreads.has(thread), pending, latest },
      end: async (finish, clean) => {
        leave(clean);
        await sql.finish(thread, finish);
      },
      abandon: async (finish) => {
        leave(false);
        await sql.finish(thread, finish);
      },
    };
  }
  const opening = await leases.tryAcquire(thread);
  if (!opening) return null;
  const stopRenewing = leases.keepAlive(thread);
  return {
    opening,
    end: async (finish, clean) => {
      stopRenewing();
      await sql.finish(thread, finish, { owner: leases.owner, clean });
    },
    // What the drain did is left unwritten: the next holder finds its answers in the checkpoint.
    abandon: async () => {
      stopRenewing();
      await leases.release(thread, false);
    },
  };
}
