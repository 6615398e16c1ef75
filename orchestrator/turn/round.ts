import type { ApprovalInterrupt } from '../approvals/types.js';
import type { TurnInfo } from '../graph/state.js';
import type { TurnDeps } from './deps.js';
import type { Finish, PendingRow, ThreadSql } from './thread-sql.js';

/** Where a thread's graph stands: paused on approvals, cut short with nodes still to run, or neither. */
export interface ThreadView {
  interrupts: ApprovalInterrupt[];
  next: string[];
  turn: TurnInfo | null;
  /** The turn ended without an answer from a persona it addressed: what the chat was told. */
  failure?: string | null;
}

/** A thread with no run pending and nothing paused. */
export const CLEAN: ThreadView = { interrupts: [], next: [], turn: null };

/**
 * One look at a thread during its drain: the context every step of the round receives
 * (see before-routing.ts). The drain runs rounds while a step asks for `again`.
 */
export interface Round {
  readonly deps: TurnDeps;
  readonly sql: ThreadSql;
  readonly thread: string;
  /** What the drain did so far and has not written. */
  readonly finish: Finish;
  /** Where the thread's graph stands: read at the start of the drain, then kept from our own runs. */
  view: ThreadView;
  /** What waits as the thread's opening read it: for the first look only (null once the graph ran or it was used). */
  opened: PendingRow[] | null;
  /** The messages waiting that no step has taken yet. */
  rows: PendingRow[];
  /** Set by a step that handled the round and wants the thread looked at again. */
  again: boolean;
}
