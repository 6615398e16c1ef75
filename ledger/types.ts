/**
 * A piece of work the team has taken on: a chat request, a GitHub issue, a pull request or
 * a job. It remembers where it was asked (so progress can be reported back to that thread),
 * who asked, which persona owns it, who reviews it, and where it stands.
 */
export interface WorkItem {
  /** Short and typable in chat: `W-12`. */
  id: string;
  kind: WorkKind;
  title: string;
  /** Thread id where the work was asked for, e.g. `local:general`. */
  originThread: string | null;
  originPlatform: string | null;
  /** The human who asked. */
  requestedBy: string | null;
  /** Persona id. */
  owner: string | null;
  reviewers: string[];
  state: WorkState;
  /** Where the work lives outside Pantheon, e.g. `gh:owner/repo#12`. */
  externalRef: string | null;
  dedupeKey: string | null;
  createdAt: Date;
  /** Last activity of any kind. */
  updatedAt: Date;
}

/** One entry of a work item's history. */
export interface WorkItemEvent {
  id: number;
  workItemId: string;
  at: Date;
  actor: string;
  /** created, state_changed, assigned, reviewer_added, progress, note, or a caller's own kind. */
  kind: string;
  detail: Record<string, unknown>;
}

export const WORK_KINDS = ['chat_request', 'issue', 'pull_request', 'job'] as const;
export type WorkKind = (typeof WORK_KINDS)[number];

export const WORK_STATES = ['requested', 'in_progress', 'in_review', 'changes_requested', 'approved', 'merged', 'blocked', 'done'] as const;
export type WorkState = (typeof WORK_STATES)[number];

/** States after which an item is no longer "in flight". */
export const FINISHED_STATES: readonly WorkState[] = ['done', 'merged'];

export function isWorkState(value: string): value is WorkState {
  return (WORK_STATES as readonly string[]).includes(value);
}

export function isWorkKind(value: string): value is WorkKind {
  return (WORK_KINDS as readonly string[]).includes(value);
}

/**
 * The canonical id for what a person typed: `W-12`, `w12`, `#12` and `12` all mean `W-12`.
 * Anything else is returned unchanged (and simply will not be found).
 */
export function normaliseWorkItemId(input: string): string {
  const m = /^\s*(?:w-?|#)?(\d+)\s*$/i.exec(input);
  return m ? `W-${m[1]}` : input.trim();
}

/** Thrown for a work item id that does not exist. */
export class WorkItemNotFoundError extends Error {
  constructor(readonly workItemId: string) {
    super(`no work item ${workItemId}`);
    this.name = 'WorkItemNotFoundError';
  }
}

/** Thrown for a state, kind or argument the ledger does not know; the message lists what is allowed. */
export class LedgerInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerInputError';
  }
}
