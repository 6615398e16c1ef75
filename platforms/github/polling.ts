import type pg from 'pg';
import { fenced, fenceParams, type Fence } from '../../core/leases/index.js';
import type { Logger } from '../../core/log.js';
import type { Persona } from '../../core/config/persona-schema.js';
import type { GitHubActivity } from '../../github/activity.js';
import type { GitHubClient } from '../../github/client.js';
import type { GitHubIdentities } from '../../github/identities.js';
import type { GitHubInbound } from './inbound.js';
import { mapWebhook, type WebhookPayload } from './map-webhook.js';

/** The parts of a notification thread we read (`GET /notifications`). */
export interface NotificationJson {
  id: string;
  reason: string;
  updated_at: string;
  last_read_at?: string | null;
  subject: { title?: string; url?: string | null; latest_comment_url?: string | null; type?: string };
  repository: { name: string; full_name?: string; owner: { login: string } };
}

/**
 * Polling mode (`github.polling.enabled`), for installations GitHub cannot reach with webhooks:
 * every interval each persona reads its own notifications with its own token (sending back the
 * last `Last-Modified` as `If-Modified-Since`, so an unchanged inbox costs nothing against the
 * rate limit), turns each into the activity the matching webhook would have produced (fetching
 * the issue, PR or comment it points at), hands it to the same pipeline, and marks it read.
 * The pipeline's claims dedupe against webhook deliveries of the same happening.
 *
 * Reasons handled: assign, review_requested, mention/team_mention/comment/author (the latest
 * comment, or the issue/PR body), state_change (a PR merged or closed). ci_activity is left to
 * webhooks (a notification does not say which check failed).
 */
export class NotificationPoller {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** The `github:notifications:<persona>` lease this poller runs under: a replica that lost it moves no cursor. */
  private fence: Fence = { name: 'github:notifications', token: 0 };

  constructor(
    private readonly deps: {
      pool: pg.Pool;
      logger: Logger;
      identities: GitHubIdentities;
      inbound: GitHubInbound;
      intervalSeconds: number;
      isCommand?: (text: string) => boolean;
      /** Only this persona's notifications (one poller per persona, each under its own lease); default every persona's. */
      persona?: string;
    },
  ) {}

  start(fence?: Fence): void {
    if (fence) this.fence = fence;
    const tick = () => {
      if (this.running) return;
      this.running = this.pollAll().finally(() => {
        this.running = undefined;
      });
    };
    this.timer = setInterval(tick, this.deps.intervalSeconds * 1000);
    this.timer.unref();
    tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  async pollAll(): Promise<void> {
    for (const persona of this.deps.identities.withToken().filter((p) => !this.deps.persona || p.id === this.deps.persona)) {
      await this.poll(persona).catch((err) => {
        this.deps.logger.warn({ persona: persona.id, err: (err as Error).message }, 'GitHub notifications poll failed');
      });
    }
  }

  /** One persona's unread notifications since its cursor. */
  async poll(persona: Persona): Promise<number> {
    const client = this.deps.identities.clientFor(persona.id)!;
    const { rows } = await this.deps.pool.query<{ last_modified: string | null }>('SELECT last_modified FROM github_poll_cursors WHERE persona = $1', [persona.id]);
    const since = rows[0]?.last_modified;
    let response;
    try {
      response = await client.request('GET /notifications', { per_page: 50, headers: since ? { 'if-modified-since': since } : {} });
    } catch (err) {
      if ((err as { status?: number }).status === 304) return 0;
      throw err;
    }
    const threads = response.data as unknown as NotificationJson[];
    let failed = false;
    for (const n of [...threads].reverse()) {
      try {
        await this.handle(persona, client, n);
        await client.request('PATCH /notifications/threads/{thread_id}', { thread_id: Number(n.id) });
      } catch (err) {
        // Left unread: the next poll (without advancing the cursor) sees it again.
        failed = true;
        this.deps.logger.warn({ persona: persona.id, notification: n.id, err: (err as Error).message }, 'could not handle a GitHub notification');
      }
    }
    const lastModified = response.headers['last-modified'];
    if (!failed && lastModified) {
      await this.deps.pool.query(
        `INSERT INTO github_poll_cursors (persona, last_modified, polled_at) SELECT $1, $2, now() WHERE ${fenced(3)}
         ON CONFLICT (persona) DO UPDATE SET last_modified = EXCLUDED.last_modified, polled_at = now()`,
        [persona.id, lastModified, ...fenceParams(this.fence)],
      );
    }
    return threads.length;
  }

  private async handle(persona: Persona, client: GitHubClient, n: NotificationJson): Promise<void> {
    const activities = await this.activitiesFor(persona, client, n);
    const source = `notification:${persona.id}:${n.id}:${n.updated_at}`;
    for (const a of activities) await this.deps.inbound.handle(a, source);
  }

  /** What the notification means, as the webhook mapper would have said it. */
  async activitiesFor(persona: Persona, client: GitHubClient, n: NotificationJson): Promise<GitHubActivity[]> {
    const owner = n.repository.owner.login;
    const repo = n.repository.name;
    const number = Number(/\/(?:issues|pulls)\/(\d+)$/.exec(n.subject.url ?? '')?.[1]);
    if (!number) return [];
    const login = persona.github!.login;
    const repository = { name: repo, full_name: `${owner}/${repo}`, owner: { login: owner } };
    const get = async <T>(url: string): Promise<T> => (await client.request(`GET ${url}`)).data as T;
    const team = { personaIdByLogin: (l: string | undefined | null) => this.deps.identities.personaIdByLogin(l) };
    const map = (event: string, payload: WebhookPayload) => mapWebhook(event, { repository, ...payload }, team, { isCommand: this.deps.isCommand });
    const isPull = n.subject.type === 'PullRequest';
    const subject = await get<WebhookPayload['pull_request'] & { state?: string; pull_request?: unknown }>(n.subject.url!);
    // Who assigned or asked for a review is not in the notification; GitHub only lets
    // collaborators do either, so those wakes need no permission check of their own.
    const implied = (as: GitHubActivity[]) => as.map((a) => ({ ...a, sender: { login: 'github', isBot: false }, needsAuthorisation: false }));

    switch (n.reason) {
      case 'assign': {
        if (!subject.assignees?.some((u) => u.login?.toLowerCase() === login.toLowerCase())) return [];
        return implied(map(isPull ? 'pull_request' : 'issues', { action: 'assigned', [isPull ? 'pull_request' : 'issue']: subject, assignee: { login }, sender: { login: 'github' } }));
      }
      case 'review_requested': {
        if (!subject.requested_reviewers?.some((u) => u.login?.toLowerCase() === login.toLowerCase())) return [];
        return implied(map('pull_request', { action: 'review_requested', pull_request: subject, requested_reviewer: { login }, sender: { login: 'github' } }));
      }
      case 'state_change': {
        if (!isPull || subject.state !== 'closed') return [];
        return implied(map('pull_request', { action: 'closed', pull_request: subject, sender: subject.merged_by ?? { login: 'github' } }));
      }
      case 'mention':
      case 'team_mention':
      case 'comment':
      case 'author':
      case 'subscribed':
      case 'manual': {
        const latest = n.subject.latest_comment_url;
        if (!latest || latest === n.subject.url) {
          const opened = map(isPull ? 'pull_request' : 'issues', { action: 'opened', [isPull ? 'pull_request' : 'issue']: subject, sender: subject.user ?? undefined });
          // A review without inline comments points nowhere: look for reviews since the last read.
          const reviews = isPull && subject.user?.login?.toLowerCase() === login.toLowerCase() ? await this.reviewsSince(client, owner, repo, number, n.last_read_at) : [];
          return [...opened, ...reviews.flatMap((review) => map('pull_request_review', { action: 'submitted', pull_request: subject, review, sender: review.user }))];
        }
        if (/\/issues\/comments\/\d+$/.test(latest)) {
          const comment = await get<NonNullable<WebhookPayload['comment']>>(latest);
          const issue = isPull ? { ...subject, pull_request: {} } : subject;
          return map('issue_comment', { action: 'created', issue, comment, sender: comment.user });
        }
        if (/\/pulls\/comments\/\d+$/.test(latest)) {
          const comment = await get<NonNullable<WebhookPayload['comment']>>(latest);
          return map('pull_request_review_comment', { action: 'created', pull_request: subject, comment, sender: comment.user });
        }
        if (/\/pulls\/\d+\/reviews\/\d+$/.test(latest)) {
          const review = await get<NonNullable<WebhookPayload['review']>>(latest);
          return map('pull_request_review', { action: 'submitted', pull_request: subject, review, sender: review.user });
        }
        return [];
      }
      default:
        return [];
    }
  }

  /** Reviews of a PR submitted since `since` (all of them when never read). */
  private async reviewsSince(
    client: GitHubClient,
    owner: string,
    repo: string,
    number: number,
    since: string | null | undefined,
  ): Promise<Array<NonNullable<WebhookPayload['review']> & { submitted_at?: string | null }>> {
    const reviews = await client.paginate('GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews', { owner, repo, pull_number: number, per_page: 100 });
    return (reviews as Array<NonNullable<WebhookPayload['review']> & { submitted_at?: string | null }>).filter((r) => r.submitted_at && (!since || r.submitted_at >= since));
  }
}
