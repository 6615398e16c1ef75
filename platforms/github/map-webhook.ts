import { parseApprovalCommand } from '../../core/chat/approvals.js';
import { REQUEST_WINDOW_SECONDS, type GitHubActivity, type GitHubActor, type GitHubRepoRef } from '../../github/activity.js';

/** What the mapper needs to know about the team: which logins are personas. */
export interface TeamLogins {
  personaIdByLogin(login: string | undefined | null): string | undefined;
}

/** Loose shapes of the payload parts we read (GitHub sends much more). */
interface UserJson {
  login?: string;
  type?: string;
}
interface IssueJson {
  number?: number;
  title?: string;
  body?: string | null;
  html_url?: string;
  user?: UserJson;
  pull_request?: unknown;
  assignees?: UserJson[];
}
interface PullJson extends IssueJson {
  merged?: boolean;
  merged_by?: UserJson | null;
  closed_at?: string | null;
  requested_reviewers?: UserJson[];
}
interface CommentJson {
  id?: number;
  body?: string | null;
  html_url?: string;
  user?: UserJson;
  path?: string;
  line?: number | null;
  diff_hunk?: string;
  pull_request_review_id?: number | null;
}
interface ReviewJson {
  id?: number;
  state?: string;
  body?: string | null;
  html_url?: string;
  user?: UserJson;
}
interface CheckJson {
  name?: string;
  conclusion?: string | null;
  html_url?: string;
  head_sha?: string;
  pull_requests?: Array<{ number?: number }>;
  app?: { slug?: string; name?: string };
}

export interface WebhookPayload {
  action?: string;
  sender?: UserJson;
  repository?: { name?: string; full_name?: string; owner?: UserJson };
  issue?: IssueJson;
  pull_request?: PullJson;
  comment?: CommentJson;
  review?: ReviewJson;
  assignee?: UserJson | null;
  requested_reviewer?: UserJson | null;
  check_run?: CheckJson;
  check_suite?: CheckJson;
  workflow_run?: CheckJson & { display_title?: string };
}

/**
 * `@login`s GitHub would notify in `text`: not inside code, not part of an email address or a
 * path. Lowercased, without duplicates.
 */
export function mentionedLogins(text: string | null | undefined): string[] {
  if (!text) return [];
  const prose = text.replace(/```[\s\S]*?```|~~~[\s\S]*?~~~/g, ' ').replace(/`[^`\n]*`/g, ' ');
  const found = new Set<string>();
  for (const m of prose.matchAll(/(?<![A-Za-z0-9_.+\-/`@])@([A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38})(?![A-Za-z0-9_\-/])/g)) {
    found.add(m[1]!.toLowerCase());
  }
  return [...found];
}

/** An issue or PR as one quoted block: its title and body are both the author's words. */
export function itemBlock(isPullRequest: boolean, thing: { number?: number; title?: string; body?: string | null }): { label: string; text: string } {
  return { label: `${isPullRequest ? 'Pull request' : 'Issue'} #${thing.number ?? '?'} (title and description)`, text: `Title: ${thing.title ?? ''}\n\n${thing.body ?? ''}` };
}

function actor(user: UserJson | null | undefined): GitHubActor {
  return { login: user?.login ?? 'ghost', isBot: user?.type === 'Bot' };
}

function repoOf(p: WebhookPayload): GitHubRepoRef | undefined {
  const r = p.repository;
  const owner = r?.owner?.login ?? r?.full_name?.split('/')[0];
  return owner && r?.name ? { owner, name: r.name } : undefined;
}

/** Persona ids for the logins, in order, without duplicates. */
function personas(team: TeamLogins, logins: Array<string | undefined | null>): string[] {
  const ids: string[] = [];
  for (const login of logins) {
    const id = team.personaIdByLogin(login);
    if (id && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

/** A comment that is a command for the orchestrator (`approve 7f3k`, `/status`), as typed. */
function commandIn(body: string | null | undefined, isCommand?: (text: string) => boolean): string | undefined {
  const text = body?.trim();
  if (!text || text.includes('\n')) return undefined;
  if (parseApprovalCommand(text)) return text;
  return isCommand?.(text) ? text : undefined;
}

/**
 * The activities one webhook means for the team; empty when it means nothing (an event we do not
 * act on, a team member nobody is aimed at). Pure: no API calls here. The processor later drops
 * targets that are the sender itself, checks who may wake a persona, and enriches what needs it
 * (a failed check's PR author, a review's inline comments).
 */
export function mapWebhook(event: string, p: WebhookPayload, team: TeamLogins, opts: { isCommand?: (text: string) => boolean } = {}): GitHubActivity[] {
  const repo = repoOf(p);
  if (!repo) return [];
  const sender = actor(p.sender);
  const repoKey = `${repo.owner}/${repo.name}`;
  const item = p.pull_request ?? p.issue;
  const base = (thing: IssueJson, isPullRequest: boolean) => ({
    repo,
    number: thing.number ?? 0,
    isPullRequest,
    title: thing.title ?? '',
    url: thing.html_url ?? '',
    sender,
    needsAuthorisation: true,
  });

  switch (`${event}.${p.action ?? ''}`) {
    case 'issues.assigned':
    case 'pull_request.assigned':
    case 'issues.unassigned':
    case 'pull_request.unassigned': {
      const targets = personas(team, [p.assignee?.login]);
      if (!item || !targets.length) return [];
      const assigned = p.action === 'assigned';
      return [
        {
          ...base(item, event === 'pull_request'),
          kind: assigned ? 'assigned' : 'unassigned',
          ...(assigned ? { key: `assigned:${repoKey}#${item.number}:${targets[0]}`, windowSeconds: REQUEST_WINDOW_SECONDS } : {}),
          targets,
          content: assigned ? [itemBlock(event === 'pull_request', item)] : undefined,
        },
      ];
    }
    case 'issues.opened':
    case 'pull_request.opened': {
      const targets = personas(team, mentionedLogins(item?.body));
      if (!item || !targets.length) return [];
      return [
        {
          ...base(item, event === 'pull_request'),
          kind: 'mentioned',
          key: `opened:${repoKey}#${item.number}`,
          targets,
          content: [itemBlock(event === 'pull_request', item)],
        },
      ];
    }
    case 'issue_comment.created': {
      const issue = p.issue;
      const comment = p.comment;
      if (!issue || !comment) return [];
      const command = commandIn(comment.body, opts.isCommand);
      if (command) return [{ ...base(issue, !!issue.pull_request), kind: 'command', key: `comment:${repoKey}:${comment.id}`, targets: [], commandText: command }];
      const targets = personas(team, mentionedLogins(comment.body));
      if (!targets.length) return [];
      return [
        {
          ...base(issue, !!issue.pull_request),
          url: comment.html_url ?? issue.html_url ?? '',
          kind: 'mentioned',
          key: `comment:${repoKey}:${comment.id}`,
          targets,
          content: [itemBlock(!!issue.pull_request, issue), { label: `Comment by ${actor(comment.user).login}`, text: comment.body ?? null }],
        },
      ];
    }
    case 'pull_request.review_requested':
    case 'pull_request.review_request_removed': {
      const targets = personas(team, [p.requested_reviewer?.login]);
      if (!p.pull_request || !targets.length) return [];
      const requested = p.action === 'review_requested';
      return [
        {
          ...base(p.pull_request, true),
          kind: requested ? 'review_requested' : 'review_request_removed',
          key: `review-request:${repoKey}#${p.pull_request.number}:${targets[0]}`,
          windowSeconds: REQUEST_WINDOW_SECONDS,
          targets,
          content: requested ? [itemBlock(true, p.pull_request)] : undefined,
        },
      ];
    }
    case 'pull_request.synchronize': {
      // Design: a push does not wake reviewers; they re-review when asked again.
      if (!p.pull_request) return [];
      return [{ ...base(p.pull_request, true), kind: 'pr_pushed', targets: [] }];
    }
    case 'pull_request.closed': {
      const pr = p.pull_request;
      if (!pr) return [];
      return [
        {
          ...base(pr, true),
          kind: 'pr_closed',
          key: `closed:${repoKey}#${pr.number}:${pr.closed_at ?? ''}`,
          targets: personas(team, [pr.user?.login]),
          closed: { merged: !!pr.merged, by: pr.merged_by?.login ?? sender.login, body: pr.body ?? null, prAuthor: pr.user?.login },
        },
      ];
    }
    case 'pull_request_review.submitted': {
      const pr = p.pull_request;
      const review = p.review;
      if (!pr || !review) return [];
      const state = (review.state ?? '').toLowerCase();
      // An approval wakes nobody; the processor may tell the origin thread all reviewers approved.
      const targets = state === 'approved' ? [] : personas(team, [pr.user?.login]);
      return [
        {
          ...base(pr, true),
          url: review.html_url ?? pr.html_url ?? '',
          kind: 'review',
          key: `review:${repoKey}:${review.id}`,
          targets,
          review: { id: review.id ?? 0, state, prAuthor: pr.user?.login },
          content: [{ label: `Review by ${actor(review.user).login} (${state.replace('_', ' ')})`, text: review.body ?? null }],
        },
      ];
    }
    case 'pull_request_review_comment.created': {
      const pr = p.pull_request;
      const comment = p.comment;
      if (!pr || !comment) return [];
      const targets = personas(team, [pr.user?.login, ...mentionedLogins(comment.body)]);
      if (!targets.length) return [];
      // Inline comments arrive with (or before) their review: one wake per review, whichever comes first.
      const key = comment.pull_request_review_id ? `review:${repoKey}:${comment.pull_request_review_id}` : `review-comment:${repoKey}:${comment.id}`;
      return [
        {
          ...base(pr, true),
          url: comment.html_url ?? pr.html_url ?? '',
          kind: 'review_comment',
          key,
          targets,
          review: comment.pull_request_review_id ? { id: comment.pull_request_review_id, state: 'commented', prAuthor: pr.user?.login } : undefined,
          content: [
            {
              label: `Review comment by ${actor(comment.user).login} on ${comment.path ?? '?'}${comment.line ? `:${comment.line}` : ''}`,
              text: `${comment.diff_hunk ? `${comment.diff_hunk}\n\n` : ''}${comment.body ?? ''}`,
            },
          ],
        },
      ];
    }
    case 'check_run.completed':
    case 'check_suite.completed':
    case 'workflow_run.completed': {
      const check = p.check_run ?? p.check_suite ?? p.workflow_run;
      if (!check || check.conclusion !== 'failure') return [];
      const name = check.name ?? check.app?.name ?? event.replace('_', ' ');
      // One activity per PR; the processor finds each PR's author (not in the payload) and wakes it if a persona.
      return (check.pull_requests ?? [])
        .filter((pr) => pr.number)
        .map((pr) => ({
          repo,
          number: pr.number!,
          isPullRequest: true,
          title: '',
          url: check.html_url ?? '',
          sender: { login: 'github-checks', isBot: false },
          needsAuthorisation: false,
          kind: 'ci_failed' as const,
          // A suite, its runs and the workflow all report one failure of one head: wake once per head.
          key: `ci:${repoKey}#${pr.number}:${check.head_sha ?? ''}`,
          targets: [],
          ci: { name, conclusion: 'failure', headSha: check.head_sha, url: check.html_url },
        }));
    }
    default:
      return [];
  }
}
