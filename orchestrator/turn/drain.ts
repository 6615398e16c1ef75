import { beforeRouting } from './before-routing.js';
import { chain, run } from './chain.js';
import type { TurnDeps } from './deps.js';
import { readThread } from './graph-run.js';
import { CLEAN, type Round } from './round.js';
import { route } from './route.js';
import type { Finish, ThreadOpening, ThreadSql } from './thread-sql.js';

/** One look at a thread: the steps before routing, then routing. */
const look = chain<Round>(...beforeRouting, route);

/** Looks at a thread at most this many times in one drain (each look that runs the graph or answers a command asks for another). */
const MAX_LOOKS = 50;

/**
 * Everything waiting for one taken thread, in order (see before-routing.ts): a run a crash
 * interrupted or whose approval was decided first, then the commands among the messages, then
 * every other message in ONE next turn. A thread paused on an approval holds new messages until
 * it is decided. Answers whether the thread is left clean (no run pending, nothing paused).
 */
export async function drain(deps: TurnDeps, sql: ThreadSql, thread: string, opening: ThreadOpening, finish: Finish): Promise<boolean> {
  // The opening read the latest checkpoint: the graph's first read of it needs no statement.
  deps.checkpoints?.prime(thread, opening.latest);
  try {
    // What we know of the thread's graph: read from the checkpoint unless it was left clean, then kept from our own runs.
    const view = opening.clean ? CLEAN : await readThread(deps, thread);
    const round: Round = { deps, sql, thread, finish, view, opened: opening.pending, rows: [], again: false };
    for (let i = 0; i < MAX_LOOKS; i++) {
      round.again = false;
      await run(look, round);
      if (!round.again) break;
    }
    return !round.view.interrupts.length && round.view.next.length === 0;
  } finally {
    deps.checkpoints?.forget(thread);
  }
}
