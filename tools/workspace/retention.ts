import { FINISHED_STATES, type WorkLedger, type WorkState } from '../../ledger/index.js';
import type { WorkspaceOnDisk } from './inventory.js';

/** What retention needs to know of the work item a workspace is for. */
export interface WorkItemStatus {
  id: string;
  state: WorkState;
  /** When it reached a finished state (done, merged); absent while it is in flight. */
  endedAt?: Date;
}

/** Finds the work item of an issue (the ledger, or a running server's copy of it). */
export interface WorkItemLookup {
  forIssue(owner: string, repo: string, issue: number): Promise<WorkItemStatus | undefined>;
}

/** Ledger references an issue may have: the GitHub thread id, and the older `gh:` spelling. */
export function issueRefs(owner: string, repo: string, issue: number): string[] {
  return [`github:${owner}/${repo}#${issue}`, `gh:${owner}/${repo}#${issue}`];
}

/** The work ledger as a lookup: an item's end is its last move into done or merged. */
export function ledgerWorkItems(ledger: Pick<WorkLedger, 'getByExternalRef' | 'events'>): WorkItemLookup {
  return {
    async forIssue(owner, repo, issue) {
      for (const ref of issueRefs(owner, repo, issue)) {
        const item = await ledger.getByExternalRef(ref);
        if (!item) continue;
        if (!FINISHED_STATES.includes(item.state)) return { id: item.id, state: item.state };
        return { id: item.id, state: item.state, endedAt: endOf(await ledger.events(item.id)) ?? item.updatedAt };
      }
      return undefined;
    },
  };
}

/** When the history last entered a finished state, if it says. */
export function endOf(events: ReadonlyArray<{ at: Date | string; kind: string; detail: Record<string, unknown> }>): Date | undefined {
  for (const e of [...events].reverse()) {
    const to = e.kind === 'state_changed' ? e.detail.to : e.kind === 'created' ? e.detail.state : undefined;
    if (typeof to === 'string' && (FINISHED_STATES as readonly string[]).includes(to)) return new Date(e.at);
  }
  return undefined;
}

export interface RetentionPolicy {
  /** `workspaces.retentionDays`: kept this long after the work item ends (or, without one, after last use). */
  retentionDays: number;
  /** A workspace used this recently is never removed: a command may be running in it (default 1 h). */
  inUseMs?: number;
}

export const IN_USE_MS = 60 * 60_000;
const DAY_MS = 24 * 60 * 60_000;

/** What becomes of one workspace, and why. */
export interface Retention {
  remove: boolean;
  /** Why, for a log line or `pantheon doctor`: `work item W-3 done 9 days ago`, `no work item, last used 2 hours ago`. */
  reason: string;
  workItem?: WorkItemStatus;
  /** When it is due for removal if nothing changes; absent while its work item is in flight or unknown. */
  removeAt?: Date;
}

/**
 * Whether a workspace is due for removal: its work item ended more than `retentionDays` ago, or it
 * has no work item and was last used more than `retentionDays` ago. Never one used within the
 * last hour, whatever the ledger says; never one whose work item cannot be looked up.
 */
export async function retentionOf(ws: WorkspaceOnDisk, lookup: WorkItemLookup | undefined, policy: RetentionPolicy, now: Date = new Date()): Promise<Retention> {
  const keepMs = policy.retentionDays * DAY_MS;
  const inUseUntil = ws.lastUsedAt.getTime() + (policy.inUseMs ?? IN_USE_MS);
  const used = `last used ${ago(ws.lastUsedAt, now)}`;
  const due = (at: number, reason: string, workItem?: WorkItemStatus): Retention => {
    const removeAt = new Date(Math.max(at, inUseUntil));
    const remove = removeAt.getTime() <= now.getTime();
    const inUse = !remove && inUseUntil > now.getTime() && at <= now.getTime();
    return { remove, reason: inUse ? `${reason}; in use (${used})` : reason, workItem, removeAt };
  };

  if (!ws.meta) return due(ws.lastUsedAt.getTime() + keepMs, `no metadata, ${used}`);
  if (!lookup) return { remove: false, reason: `work item unknown (the ledger cannot be read), ${used}` };
  let item: WorkItemStatus | undefined;
  try {
    item = await lookup.forIssue(ws.meta.owner, ws.meta.repo, ws.meta.issue);
  } catch (err) {
    return { remove: false, reason: `work item unknown (${(err as Error).message}), ${used}` };
  }
  if (!item) return due(ws.lastUsedAt.getTime() + keepMs, `no work item, ${used}`);
  if (!item.endedAt) return { remove: false, reason: `work item ${item.id} ${item.state}`, workItem: item };
  return due(item.endedAt.getTime() + keepMs, `work item ${item.id} ${item.state} ${ago(item.endedAt, now)}`, item);
}

/** `… → removed in 4 days`, `… → removed at the next clean-up`, or nothing while kept for good reason. */
export function removalNote(r: Retention, now: Date = new Date()): string {
  if (!r.removeAt) return '';
  const ms = r.removeAt.getTime() - now.getTime();
  return ms <= 0 ? ' → removed at the next clean-up' : ` → removed in ${span(ms)}`;
}

/** `just now`, `5 min ago`, `3 hours ago`, `9 days ago`. */
function ago(at: Date, now: Date = new Date()): string {
  const ms = now.getTime() - at.getTime();
  return ms < 60_000 ? 'just now' : `${span(ms)} ago`;
}

/** `5 min`, `3 hours`, `9 days`, to the nearest hour or day (`1 min` at least). */
function span(ms: number): string {
  const minutes = Math.max(1, Math.floor(ms / 60_000));
  if (minutes < 90) return `${minutes} min`;
  const hours = minutes / 60;
  if (hours < 47.5) return `${Math.round(hours)} hours`;
  return `${Math.round(hours / 24)} days`;
}
