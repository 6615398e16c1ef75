import type pg from 'pg';
import type { ChatCommandRegistry } from '../../core/chat/commands.js';
import type { OutboxPort } from '../../core/chat/outbox.js';
import type { Logger } from '../../core/log.js';
import type { Metrics } from '../../core/metrics.js';
import type { JobQueue } from '../../core/queue/types.js';
import type { ApprovalDesk } from '../approvals/desk.js';
import type { CheckpointRow } from '../checkpoint/pg-saver.js';
import type { TeamGraph } from '../graph/team-graph.js';
import type { RouterConfig } from '../router.js';
import type { ThreadLeases } from '../thread-lease.js';
import type { ThreadLocks } from '../thread-lock.js';

/** What the turn pipeline works with, wired once by cli/compose-team.ts. */
export interface TurnDeps {
  pool: pg.Pool;
  queue: JobQueue;
  graph: TeamGraph;
  outbox: OutboxPort;
  locks: ThreadLocks;
  /** Set when several processes run workers (BullMQ): one run per thread across them. */
  leases?: ThreadLeases;
  router: RouterConfig;
  desk: ApprovalDesk;
  metrics: Metrics;
  logger: Logger;
  durability: 'sync' | 'async' | 'exit';
  /** A message when the persona has spent its daily budget, else null. */
  budgetSpent: (personaId: string) => Promise<string | null>;
  /** Threads this process left with no run in progress and nothing paused (only used without leases). */
  cleanThreads: Set<string>;
  /** Chat commands answered before routing (`/status`, `/cancel <job>`, `approve <id>`...). */
  commands: ChatCommandRegistry;
  /** The checkpointer, when it can serve a thread's latest checkpoint read in passing (PgCheckpointSaver). */
  checkpoints?: { prime(threadId: string, row: CheckpointRow | null): void; forget(threadId: string): void };
}
