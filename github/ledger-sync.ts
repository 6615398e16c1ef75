import type { WorkItem, WorkLedger, WorkState } from '../ledger/index.js';
import type { OutboxPort } from '../core/chat/outbox.js';
import type { NotifierPort } from '../core/chat/notices.js';
import { activityRef, type GitHubActivity, type GitHubWorkEvent } from './activity.js';
import { ledgerRefs } from './thread-id.js';

/**
 * Keeps the work ledger in step with GitHub and tells the thread a piece of work came from when
 * it lands: merged, closed, or approved by every reviewer. Work items are linked to GitHub by
 * `externalRef` = the thread id (`github:acme/api#12`); a PR without an item of its own counts
 * for the issues it closes (`Closes #12` in its body).
 *
 * Fed by the GitHub inbound pipeline's work events (`handle`), outside the platform adapter: the adapter
 * reports what happened, and knows nothing of the ledger. (What personas say on GitHub reaches
 * the origin thread through the outbox's after-post hook: origin-mirror.ts.)
 */
export class LedgerSync {
  constructor(private readonly deps: { ledger: WorkLedger; outbox: OutboxPort; notifier?: NotifierPort }) {}

  /** One work event of the GitHub inbound pipeline (a `GitHubWorkListener`). */
  async handle(event: GitHubWorkEvent): Promise<void> {
    const a = event.activity;
    switch (event.kind) {
      case 'assigned':
        return this.assigned(a, event.persona);
      case 'unassigned':
        return this.unassigned(a, event.persona);
      case 'review_requested':
        return this.reviewRequested(a, event.persona, event.prBody);
      case 'pushed':
        return this.pushed(a, event.prBody);
      case 'changes_requested':
        return this.changesRequested(a, event.prBody);
      case 'all_approved':
        return this.allApproved(a, event.prBody);
      case 'closed':
        return this.closed(a);
    }
  }

  /** Items for this issue or PR: its own, else (for a PR) those of the issues it closes. */
  async itemsFor(a: Pick<GitHubActivity, 'repo' | 'number'>, prBody?: string | null): Promise<WorkItem[]> {
    const own = await this.byRef(a.repo.owner, a.repo.name, a.number);
    if (own) return [own];
    const items: WorkItem[] = [];
    for (const n of closedIssues(prBody)) {
      const item = await this.byRef(a.repo.owner, a.repo.name, n);
      if (item && !items.some((i) => i.id === item.id)) items.push(item);
    }
    return items;
  }

  private async byRef(owner: string, repo: string, number: number): Promise<WorkItem | undefined> {
    for (const ref of ledgerRefs({ owner, repo, number })) {
      const item = await this.deps.ledger.getByExternalRef(ref);
      if (item) return item;
    }
    return undefined;
  }

  async assigned(a: GitHubActivity, persona: string): Promise<void> {
    for (const item of await this.itemsFor(a)) {
      await this.deps.ledger.assign(item.id, persona, a.sender.login);
      if (item.state === 'requested') await this.deps.ledger.transition(item.id, 'in_progress', { actor: a.sender.login, note: `assigned on GitHub ${activityRef(a)}` });
    }
  }

  async unassigned(a: GitHubActivity, persona: string): Promise<void> {
    for (const item of await this.itemsFor(a)) {
      await this.deps.ledger.recordEvent(item.id, { actor: a.sender.login, kind: 'unassigned', detail: { persona, ref: activityRef(a) } });
    }
  }

  async reviewRequested(a: GitHubActivity, persona: string, prBody?: string | null): Promise<void> {
    for (const item of await this.itemsFor(a, prBody)) {
      await this.deps.ledger.addReviewer(item.id, persona, a.sender.login);
      if (['requested', 'in_progress'].includes(item.state)) await this.deps.ledger.transition(item.id, 'in_review', { actor: a.sender.login });
    }
  }

  async pushed(a: GitHubActivity, prBody?: string | null): Promise<void> {
    for (const item of await this.itemsFor(a, prBody)) {
      await this.deps.ledger.recordEvent(item.id, { actor: a.sender.login, kind: 'pushed', detail: { ref: activityRef(a) } });
    }
  }

  async changesRequested(a: GitHubActivity, prBody?: string | null): Promise<void> {
    for (const item of await this.itemsFor(a, prBody)) {
      await this.deps.ledger.transition(item.id, 'changes_requested', { actor: a.sender.login, note: `review on ${activityRef(a)}` });
    }
  }

  /** Every reviewer approved: the item moves to approved and its origin thread is told. */
  async allApproved(a: GitHubActivity, prBody?: string | null): Promise<void> {
    await this.land(a, 'approved', prBody, `${activityRef(a)} "${a.title}" is approved by every reviewer; merging waits for a human: ${a.url}`);
  }

  async closed(a: GitHubActivity): Promise<void> {
    const merged = !!a.closed?.merged;
    const text = merged
      ? `${activityRef(a)} "${a.title}" was merged by ${a.closed?.by ?? a.sender.login}: ${a.url}`
      : `${activityRef(a)} "${a.title}" was closed without merging by ${a.sender.login}: ${a.url}`;
    await this.land(a, merged ? 'merged' : 'done', a.closed?.body, text);
  }

  private async land(a: GitHubActivity, state: WorkState, prBody: string | null | undefined, text: string): Promise<void> {
    for (const item of await this.itemsFor(a, prBody)) {
      const after = await this.deps.ledger.transition(item.id, state, { actor: a.sender.login, note: activityRef(a) });
      if (!item.originThread || !item.originPlatform || item.originPlatform === 'github') continue;
      const who = after.requestedBy ? `@${after.requestedBy} ` : '';
      await this.deps.outbox.send({
        idempotencyKey: `github:origin:${item.id}:${state}:${a.key ?? activityRef(a)}`,
        platform: item.originPlatform,
        threadId: item.originThread,
        role: 'system',
        text: `${who}[${item.id}] ${text}`,
      });
      // "Your PR is ready": the person who asked for the work hears of it where they want to.
      if (state === 'approved' && after.requestedBy) {
        await this.deps.notifier?.notify({
          kind: 'finished',
          key: `work:${item.id}:approved:${a.key ?? activityRef(a)}`,
          text: `Your work ${item.id} is ready: ${text}`,
          to: [{ platform: item.originPlatform, userId: after.requestedBy }],
          thread: item.originThread,
        });
      }
    }
  }
}

/** Issue numbers a PR body closes (`Closes #12`, `fixes #3`, `Resolved: #7`), same repository. */
export function closedIssues(body: string | null | undefined): number[] {
  if (!body) return [];
  const numbers = new Set<number>();
  for (const m of body.matchAll(/\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+#(\d+)\b/gi)) numbers.add(Number(m[1]));
  return [...numbers];
}
