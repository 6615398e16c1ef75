import type { Logger } from '../../core/log.js';
import type { Metrics } from '../../core/metrics.js';
import type { OutboxPort } from '../../core/chat/outbox.js';
import { deliverInbound } from '../../core/chat/inbound.js';
import type { IngressSink } from '../../core/chat/types.js';
import { activityRef, type GitHubActivity, type GitHubWorkListener } from '../../github/activity.js';
import { refusalText, type GitHubAuthoriser } from './authorise.js';
import { activityEnvelope } from './envelope.js';
import type { GitHubIdentities } from '../../github/identities.js';
import type { SeenActivities } from './seen.js';
import { itemBlock } from './map-webhook.js';
import { encodeGitHubThreadId } from '../../github/thread-id.js';

export interface GitHubInboundDeps {
  logger: Logger;
  ingress: IngressSink;
  outbox: OutboxPort;
  identities: GitHubIdentities;
  authoriser: GitHubAuthoriser;
  seen: SeenActivities;
  /** Told what each activity did to the work it touches (github/ledger-sync.ts keeps the ledger in step). */
  work: GitHubWorkListener;
  /** Counts activities the ingress could not store (`pantheon_inbound_failures_total`). */
  metrics?: Pick<Metrics, 'inboundFailures'>;
}

/**
 * The one pipeline every GitHub activity goes through, from a webhook or from polling, in order:
 * enrich what the event does not say (a failed check's PR author, a review's inline comments),
 * report what it did to tracked work (`work`: the ledger sync listens), drop the sender from its
 * own targets (a persona never wakes itself), check the sender may wake a persona (else one
 * polite refusal, no run), claim the happening so the other path cannot wake it twice, and hand
 * the envelope to the durable ingress.
 * API failures throw: the queue job retries, and nothing is claimed before the API work is done.
 */
export class GitHubInbound {
  constructor(private readonly deps: GitHubInboundDeps) {}

  async handle(input: GitHubActivity, source: string): Promise<'ingress' | 'refused' | 'duplicate' | 'ignored'> {
    const { identities, work, seen, logger } = this.deps;
    const a: GitHubActivity = { ...input, targets: [...input.targets], source };
    const log = logger.child({ github: activityRef(a), kind: a.kind, source });

    switch (a.kind) {
      case 'pr_pushed':
        await work({ kind: 'pushed', activity: a, prBody: await this.prBody(a) });
        return 'ignored';
      case 'review_request_removed':
        if (a.key) await seen.release(a.key);
        return 'ignored';
      case 'unassigned':
        for (const t of a.targets) await seen.release(`assigned:${a.repo.owner}/${a.repo.name}#${a.number}:${t}`);
        break;
      case 'ci_failed':
        await this.findPrAuthor(a);
        break;
      case 'review':
      case 'review_comment':
        // A submitted review ends the reviewer's request on GitHub: being asked again must wake it again.
        if (a.kind === 'review' && identities.personaIdByLogin(a.sender.login)) {
          await seen.release(`review-request:${a.repo.owner}/${a.repo.name}#${a.number}:${identities.personaIdByLogin(a.sender.login)}`);
        }
        if (a.review?.state === 'approved') {
          if (await this.allApproved(a)) await work({ kind: 'all_approved', activity: a, prBody: await this.prBody(a) });
          return 'ignored';
        }
        if (a.review?.state === 'changes_requested') await work({ kind: 'changes_requested', activity: a, prBody: await this.prBody(a) });
        await this.addReviewComments(a, log);
        break;
      case 'pr_closed':
        await work({ kind: 'closed', activity: a });
        break;
      default:
        break;
    }

    const sender = a.sender.login.toLowerCase();
    a.targets = a.targets.filter((t) => identities.loginOf(t)?.toLowerCase() !== sender);
    if (a.sender.isBot) return 'ignored';
    if (a.kind !== 'command' && !a.targets.length) return 'ignored';

    if (a.needsAuthorisation) {
      const verdict = await this.deps.authoriser.check(a.repo, a.sender.login, identities.readerFor(a.targets[0]));
      if (!verdict.allowed) {
        log.info({ sender: a.sender.login, permission: verdict.permission }, 'GitHub sender may not wake a persona; refusing');
        if (a.kind !== 'command') await this.refuse(a);
        return 'refused';
      }
    }
    if (a.key && !(await seen.claim(a.key, source, a.windowSeconds))) {
      log.debug({ key: a.key }, 'already handled through the other path');
      return 'duplicate';
    }
    if (a.kind === 'assigned') for (const t of a.targets) await work({ kind: 'assigned', activity: a, persona: t });
    if (a.kind === 'review_requested') for (const t of a.targets) await work({ kind: 'review_requested', activity: a, persona: t, prBody: await this.prBody(a) });
    if (a.kind === 'unassigned') for (const t of a.targets) await work({ kind: 'unassigned', activity: a, persona: t });

    const id = `github:${source}:${a.key ?? `${a.kind}:${a.number}`}`;
    // Not stored: throw, so the delivery's job is retried or the notification stays unread (the claim is this source's still).
    const stored = await deliverInbound(this.deps.ingress, activityEnvelope(a, { id, loginOf: (p) => identities.loginOf(p) }), { redelivery: 'platform', logger: log, metrics: this.deps.metrics });
    if (!stored.ack) throw stored.error!;
    return 'ingress';
  }

  /** One short refusal per person, persona and thread, posted as the persona addressed. */
  private async refuse(a: GitHubActivity): Promise<void> {
    const threadId = encodeGitHubThreadId({ owner: a.repo.owner, repo: a.repo.name, number: a.number });
    for (const persona of a.targets) {
      if (!this.deps.identities.clientFor(persona)) continue;
      await this.deps.outbox.send({
        idempotencyKey: `github:refusal:${threadId}:${a.sender.login.toLowerCase()}:${persona}`,
        platform: 'github',
        threadId,
        role: 'agent',
        persona,
        text: refusalText(a.sender.login),
      });
    }
  }

  /** A failed check's payload names the PR, not its author: ask, and aim at the author if a persona. */
  private async findPrAuthor(a: GitHubActivity): Promise<void> {
    const pr = await this.fetchPull(a);
    if (!pr) return;
    a.title = pr.title ?? '';
    a.url = a.ci?.url || pr.html_url || a.url;
    a.closed = undefined;
    const author = this.deps.identities.personaIdByLogin(pr.user?.login);
    a.targets = author ? [author] : [];
    a.content = [itemBlock(true, { number: a.number, title: pr.title, body: pr.body })];
  }

  private prBodies = new Map<string, string | null>();

  private async prBody(a: GitHubActivity): Promise<string | null> {
    const key = activityRef(a);
    if (!this.prBodies.has(key)) {
      const pr = await this.fetchPull(a).catch(() => undefined);
      if (this.prBodies.size > 500) this.prBodies.clear();
      this.prBodies.set(key, pr?.body ?? null);
    }
    return this.prBodies.get(key) ?? null;
  }

  private async fetchPull(a: GitHubActivity): Promise<PullJson | undefined> {
    const client = this.deps.identities.readerFor();
    if (!client) return undefined;
    const { data } = await client.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { owner: a.repo.owner, repo: a.repo.name, pull_number: a.number });
    return data as PullJson;
  }

  /** Every reviewer's latest verdict is an approval and nobody is still asked to review. */
  private async allApproved(a: GitHubActivity): Promise<boolean> {
    const client = this.deps.identities.readerFor();
    if (!client) return false;
    const pr = await this.fetchPull(a);
    if ((pr?.requested_reviewers ?? []).length > 0) return false;
    const reviews = (await client.paginate('GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews', { owner: a.repo.owner, repo: a.repo.name, pull_number: a.number, per_page: 100 })) as Array<{
      user?: { login?: string } | null;
      state?: string;
    }>;
    const latest = new Map<string, string>();
    for (const r of reviews) {
      const login = r.user?.login?.toLowerCase();
      if (!login || r.state === 'COMMENTED' || r.state === 'PENDING') continue;
      latest.set(login, r.state ?? '');
    }
    const states = [...latest.values()];
    return states.includes('APPROVED') && states.every((s) => s === 'APPROVED' || s === 'DISMISSED');
  }

  /** The review's body and all its inline comments, so one wake carries the whole review. Best effort. */
  private async addReviewComments(a: GitHubActivity, log: Logger): Promise<void> {
    const client = this.deps.identities.readerFor(a.targets[0]);
    const reviewId = a.review?.id;
    if (!client || !reviewId) return;
    const params = { owner: a.repo.owner, repo: a.repo.name, pull_number: a.number, review_id: reviewId };
    try {
      const blocks: NonNullable<GitHubActivity['content']> = [];
      if (a.kind === 'review_comment') {
        const { data: review } = await client.request('GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}', params);
        const state = review.state.toLowerCase();
        if (a.review) a.review.state = state;
        if (review.body) blocks.push({ label: `Review by ${review.user?.login ?? '?'} (${state.replace('_', ' ')})`, text: review.body });
      } else {
        blocks.push(...(a.content ?? []));
      }
      const { data: comments } = await client.request('GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/comments', { ...params, per_page: 100 });
      for (const c of comments as Array<{ path?: string; line?: number | null; original_line?: number | null; body?: string; diff_hunk?: string; user?: { login?: string } | null }>) {
        const line = c.line ?? c.original_line;
        blocks.push({ label: `Review comment by ${c.user?.login ?? '?'} on ${c.path ?? '?'}${line ? `:${line}` : ''}`, text: `${c.diff_hunk ? `${c.diff_hunk}\n\n` : ''}${c.body ?? ''}` });
      }
      if (blocks.length) a.content = blocks;
    } catch (err) {
      log.warn({ err: (err as Error).message }, "could not read the review's comments; waking with what the event carried");
    }
  }
}

interface PullJson {
  title?: string;
  body?: string | null;
  html_url?: string;
  user?: { login?: string } | null;
  requested_reviewers?: Array<{ login?: string }>;
}
