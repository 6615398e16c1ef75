/**
 * Webhook payloads (shaped like @octokit/webhooks-examples) and the notification fan-out that
 * goes with each state change.
 */
import { changedFiles, commitCount, mergeBase } from './git-repo.js';
import type { PendingEvent } from './http.js';
import { mentions } from './http.js';
import { issueJson, pullJson, repoJson, userJson, type PullStats } from './shapes.js';
import type { GitHubStore, RepoState } from './store.js';
import type { Issue, NotificationThread, Pull } from './types.js';

type Json = Record<string, any>;

export async function pullStats(state: RepoState, pull: Pull): Promise<PullStats> {
  const dir = state.repo.path;
  const from = await mergeBase(dir, pull.baseSha, pull.headSha);
  const files = await changedFiles(dir, from, pull.headSha);
  return {
    commits: await commitCount(dir, from, pull.headSha),
    additions: files.reduce((n, f) => n + f.additions, 0),
    deletions: files.reduce((n, f) => n + f.deletions, 0),
    changed_files: files.length,
  };
}

function base(store: GitHubStore, state: RepoState, actor: string): Json {
  return { repository: repoJson(store, state), sender: userJson(store, actor) };
}

export function issuesEvent(store: GitHubStore, state: RepoState, action: string, issue: Issue, actor: string, extra: Json = {}): PendingEvent {
  return { event: 'issues', payload: { action, issue: issueJson(store, state, issue), ...extra, ...base(store, state, actor) } };
}

export async function pullRequestEvent(store: GitHubStore, state: RepoState, action: string, pull: Pull, actor: string, extra: Json = {}): Promise<PendingEvent> {
  // A snapshot, so the payload shows the pull as it was at the moment of the change.
  const snapshot: Pull = { ...pull, labels: [...pull.labels], assignees: [...pull.assignees], requestedReviewers: [...pull.requestedReviewers] };
  const common = base(store, state, actor);
  const pullRequest = pullJson(store, state, snapshot, await pullStats(state, snapshot));
  return { event: 'pull_request', payload: { action, number: pull.number, pull_request: pullRequest, ...extra, ...common } };
}

/** issue_comment and other events that carry the issue form of an issue or PR. */
export function commentEvent(store: GitHubStore, state: RepoState, item: Issue | Pull, comment: Json, actor: string): PendingEvent {
  return { event: 'issue_comment', payload: { action: 'created', issue: issueJson(store, state, item), comment, ...base(store, state, actor) } };
}

export function withBase(store: GitHubStore, state: RepoState, actor: string, payload: Json): Json {
  return { ...payload, ...base(store, state, actor) };
}

type Reason = NotificationThread['reason'];
/** When several reasons apply, the strongest is shown (mention > review request > assignment > ...). */
const PRIORITY: Reason[] = ['mention', 'review_requested', 'assign', 'author', 'comment', 'state_change', 'ci_activity'];

/**
 * Adds or refreshes notification threads: explicit `reasons`, plus `@mentions` in `text`.
 * The actor is never notified of their own action; users without access never are.
 */
export function notify(
  store: GitHubStore,
  state: RepoState,
  item: Issue | Pull,
  actor: string | null,
  reasons: Array<[string, Reason]>,
  opts: { text?: string | null; commentUrl?: string } = {},
): void {
  const best = new Map<string, Reason>();
  const offer = (login: string, reason: Reason): void => {
    const user = store.user(login);
    if (!user || (actor && user.login.toLowerCase() === actor.toLowerCase())) return;
    if (store.permission(state, user.login) === 'none') return;
    const current = best.get(user.login);
    if (!current || PRIORITY.indexOf(reason) < PRIORITY.indexOf(current)) best.set(user.login, reason);
  };
  for (const login of mentions(store, opts.text)) offer(login, 'mention');
  for (const [login, reason] of reasons) offer(login, reason);
  const now = store.now();
  for (const [login, reason] of best) {
    let thread = store.notifications.find((t) => t.login === login && t.repo === state.repo.fullName && t.number === item.number && !t.done);
    if (!thread) {
      thread = {
        id: String(store.nextId('notification')),
        login,
        repo: state.repo.fullName,
        number: item.number,
        subjectType: 'head' in item ? 'PullRequest' : 'Issue',
        reason,
        unread: true,
        done: false,
        updatedAt: now,
        lastReadAt: null,
        latestCommentUrl: null,
      };
      store.notifications.push(thread);
    }
    thread.reason = reason;
    thread.unread = true;
    thread.updatedAt = now;
    if (opts.commentUrl) thread.latestCommentUrl = opts.commentUrl;
  }
}

/** Everyone following a thread: author, assignees, requested reviewers, earlier commenters and reviewers. */
export function participants(state: RepoState, item: Issue | Pull): Array<[string, Reason]> {
  const list: Array<[string, Reason]> = [[item.author, 'author']];
  for (const login of item.assignees) list.push([login, 'assign']);
  if ('head' in item) for (const login of item.requestedReviewers) list.push([login, 'review_requested']);
  for (const c of state.comments) if (c.number === item.number) list.push([c.author, 'comment']);
  for (const r of state.reviews) if (r.number === item.number) list.push([r.author, 'comment']);
  for (const c of state.reviewComments) if (c.number === item.number) list.push([c.author, 'comment']);
  return list;
}
