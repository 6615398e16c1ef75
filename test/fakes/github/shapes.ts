/**
 * Renders state records in GitHub's REST JSON shapes (the fields clients and the webhook
 * examples rely on: ids, node ids, api and html urls, users, head/base, timestamps).
 */
import type { GitHubStore, Label, RepoState } from './store.js';
import type { CheckRun, Comment, Issue, NotificationThread, Pull, Review, ReviewComment } from './types.js';

type Json = Record<string, any>;

export function nodeId(prefix: string, id: number | string): string {
  return `${prefix}_${Buffer.from(`fake:${prefix}:${id}`).toString('base64url')}`;
}

export function userJson(store: GitHubStore, login: string): Json {
  const user = store.user(login) ?? store.addUser(login);
  const api = `${store.url}/users/${user.login}`;
  return {
    login: user.login,
    id: user.id,
    node_id: nodeId(user.type === 'Bot' ? 'BOT' : user.type === 'Organization' ? 'O' : 'U', user.id),
    avatar_url: `${store.url}/avatars/${user.login}`,
    gravatar_id: '',
    url: api,
    html_url: `${store.url}/${user.login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: user.type,
    site_admin: false,
  };
}

/** `<name>_url` templates every repository object carries, relative to its API url. */
const REPO_URLS: Record<string, string> = {
  forks_url: '/forks',
  keys_url: '/keys{/key_id}',
  collaborators_url: '/collaborators{/collaborator}',
  teams_url: '/teams',
  hooks_url: '/hooks',
  issue_events_url: '/issues/events{/number}',
  events_url: '/events',
  assignees_url: '/assignees{/user}',
  branches_url: '/branches{/branch}',
  tags_url: '/tags',
  blobs_url: '/git/blobs{/sha}',
  git_tags_url: '/git/tags{/sha}',
  git_refs_url: '/git/refs{/sha}',
  trees_url: '/git/trees{/sha}',
  statuses_url: '/statuses/{sha}',
  languages_url: '/languages',
  stargazers_url: '/stargazers',
  contributors_url: '/contributors',
  subscribers_url: '/subscribers',
  subscription_url: '/subscription',
  commits_url: '/commits{/sha}',
  git_commits_url: '/git/commits{/sha}',
  comments_url: '/comments{/number}',
  issue_comment_url: '/issues/comments{/number}',
  contents_url: '/contents/{+path}',
  compare_url: '/compare/{base}...{head}',
  merges_url: '/merges',
  archive_url: '/{archive_format}{/ref}',
  downloads_url: '/downloads',
  issues_url: '/issues{/number}',
  pulls_url: '/pulls{/number}',
  milestones_url: '/milestones{/number}',
  notifications_url: '/notifications{?since,all,participating}',
  labels_url: '/labels{/name}',
  releases_url: '/releases{/id}',
  deployments_url: '/deployments',
};

export function repoJson(store: GitHubStore, state: RepoState, viewer?: string | null): Json {
  const { repo } = state;
  const api = `${store.url}/repos/${repo.fullName}`;
  const permission = store.permission(state, viewer);
  const openIssues = [...state.issues.values(), ...state.pulls.values()].filter((i) => i.state === 'open').length;
  const urls = Object.fromEntries(Object.entries(REPO_URLS).map(([key, suffix]) => [key, `${api}${suffix}`]));
  return {
    id: repo.id,
    node_id: nodeId('R', repo.id),
    name: repo.name,
    full_name: repo.fullName,
    private: repo.private,
    owner: userJson(store, repo.owner),
    html_url: repo.htmlUrl,
    description: null,
    fork: false,
    url: api,
    ...urls,
    created_at: state.createdAt,
    updated_at: state.createdAt,
    pushed_at: state.createdAt,
    git_url: repo.cloneUrl.replace(/^http/, 'git'),
    ssh_url: `git@127.0.0.1:${repo.fullName}.git`,
    clone_url: repo.cloneUrl,
    svn_url: repo.htmlUrl,
    homepage: null,
    size: 1,
    stargazers_count: 0,
    watchers_count: 0,
    language: null,
    has_issues: true,
    has_projects: false,
    has_downloads: true,
    has_wiki: false,
    has_pages: false,
    has_discussions: false,
    forks_count: 0,
    mirror_url: null,
    archived: false,
    disabled: false,
    open_issues_count: openIssues,
    license: null,
    allow_forking: true,
    is_template: false,
    web_commit_signoff_required: false,
    topics: [],
    visibility: repo.private ? 'private' : 'public',
    forks: 0,
    open_issues: openIssues,
    watchers: 0,
    default_branch: repo.defaultBranch,
    custom_properties: {},
    permissions: {
      admin: permission === 'admin',
      maintain: permission === 'admin',
      push: permission === 'admin' || permission === 'write',
      triage: permission !== 'none' && permission !== 'read',
      pull: permission !== 'none',
    },
  };
}

export function labelJson(store: GitHubStore, state: RepoState, label: Label): Json {
  return {
    id: label.id,
    node_id: nodeId('LA', label.id),
    url: `${store.url}/repos/${state.repo.fullName}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    color: label.color,
    default: false,
    description: label.description,
  };
}

function authorAssociation(store: GitHubStore, state: RepoState, login: string): string {
  if (login.toLowerCase() === state.repo.owner.toLowerCase()) return 'OWNER';
  return store.isCollaborator(state, login) ? 'COLLABORATOR' : 'NONE';
}

/** An issue, or a pull request in its issue form (with the `pull_request` key). */
export function issueJson(store: GitHubStore, state: RepoState, item: Issue | Pull): Json {
  const api = `${store.url}/repos/${state.repo.fullName}/issues/${item.number}`;
  const isPull = 'head' in item;
  const json: Json = {
    id: item.id,
    node_id: nodeId(isPull ? 'PR' : 'I', item.id),
    url: api,
    repository_url: `${store.url}/repos/${state.repo.fullName}`,
    labels_url: `${api}/labels{/name}`,
    comments_url: `${api}/comments`,
    events_url: `${api}/events`,
    html_url: item.htmlUrl,
    number: item.number,
    title: item.title,
    user: userJson(store, item.author),
    labels: item.labels.map((name) => labelJson(store, state, store.label(state, name))),
    state: item.state,
    state_reason: isPull ? null : (item as Issue).stateReason,
    locked: false,
    assignee: item.assignees[0] ? userJson(store, item.assignees[0]) : null,
    assignees: item.assignees.map((login) => userJson(store, login)),
    milestone: null,
    comments: state.comments.filter((c) => c.number === item.number).length,
    created_at: item.createdAt,
    updated_at: item.updatedAt,
    closed_at: item.closedAt,
    author_association: authorAssociation(store, state, item.author),
    body: item.body,
    reactions: { url: `${api}/reactions`, total_count: 0 },
  };
  if (isPull) {
    const pull = item as Pull;
    const pullApi = `${store.url}/repos/${state.repo.fullName}/pulls/${item.number}`;
    json.draft = pull.draft;
    json.pull_request = { url: pullApi, html_url: pull.htmlUrl, diff_url: `${pull.htmlUrl}.diff`, patch_url: `${pull.htmlUrl}.patch`, merged_at: pull.mergedAt };
  }
  return json;
}

function branchJson(store: GitHubStore, state: RepoState, ref: string, sha: string): Json {
  return {
    label: `${state.repo.owner}:${ref}`,
    ref,
    sha,
    user: userJson(store, state.repo.owner),
    repo: repoJson(store, state),
  };
}

/** Counts GitHub adds to a single-pull answer (`GET /pulls/{n}`, webhooks). */
export interface PullStats {
  commits: number;
  additions: number;
  deletions: number;
  changed_files: number;
}

export function pullJson(store: GitHubStore, state: RepoState, pull: Pull, stats?: PullStats): Json {
  const api = `${store.url}/repos/${state.repo.fullName}/pulls/${pull.number}`;
  const issueApi = `${store.url}/repos/${state.repo.fullName}/issues/${pull.number}`;
  const json: Json = {
    url: api,
    id: pull.id,
    node_id: nodeId('PR', pull.id),
    html_url: pull.htmlUrl,
    diff_url: `${pull.htmlUrl}.diff`,
    patch_url: `${pull.htmlUrl}.patch`,
    issue_url: issueApi,
    commits_url: `${api}/commits`,
    review_comments_url: `${api}/comments`,
    review_comment_url: `${store.url}/repos/${state.repo.fullName}/pulls/comments{/number}`,
    comments_url: `${issueApi}/comments`,
    statuses_url: `${store.url}/repos/${state.repo.fullName}/statuses/${pull.headSha}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: userJson(store, pull.author),
    body: pull.body,
    labels: pull.labels.map((name) => labelJson(store, state, store.label(state, name))),
    milestone: null,
    active_lock_reason: null,
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
    closed_at: pull.closedAt,
    merged_at: pull.mergedAt,
    merge_commit_sha: pull.mergeCommitSha,
    assignee: pull.assignees[0] ? userJson(store, pull.assignees[0]) : null,
    assignees: pull.assignees.map((login) => userJson(store, login)),
    requested_reviewers: pull.requestedReviewers.map((login) => userJson(store, login)),
    requested_teams: [],
    head: branchJson(store, state, pull.head, pull.headSha),
    base: branchJson(store, state, pull.base, pull.baseSha),
    _links: {
      self: { href: api },
      html: { href: pull.htmlUrl },
      issue: { href: issueApi },
      comments: { href: `${issueApi}/comments` },
      review_comments: { href: `${api}/comments` },
      commits: { href: `${api}/commits` },
      statuses: { href: `${store.url}/repos/${state.repo.fullName}/statuses/${pull.headSha}` },
    },
    author_association: authorAssociation(store, state, pull.author),
    auto_merge: null,
    draft: pull.draft,
  };
  if (stats) {
    Object.assign(json, {
      merged: pull.merged,
      mergeable: pull.state === 'open' ? true : null,
      rebaseable: pull.state === 'open' ? true : null,
      mergeable_state: pull.state === 'open' ? 'clean' : 'unknown',
      merged_by: pull.mergedBy ? userJson(store, pull.mergedBy) : null,
      comments: state.comments.filter((c) => c.number === pull.number).length,
      review_comments: state.reviewComments.filter((c) => c.number === pull.number).length,
      maintainer_can_modify: false,
      ...stats,
    });
  }
  return json;
}

export function commentJson(store: GitHubStore, state: RepoState, comment: Comment): Json {
  return {
    id: comment.id,
    node_id: nodeId('IC', comment.id),
    url: `${store.url}/repos/${state.repo.fullName}/issues/comments/${comment.id}`,
    html_url: comment.htmlUrl,
    issue_url: `${store.url}/repos/${state.repo.fullName}/issues/${comment.number}`,
    body: comment.body,
    user: userJson(store, comment.author),
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    author_association: authorAssociation(store, state, comment.author),
    reactions: { total_count: 0 },
  };
}

export function reviewJson(store: GitHubStore, state: RepoState, review: Review): Json {
  const pullApi = `${store.url}/repos/${state.repo.fullName}/pulls/${review.number}`;
  return {
    id: review.id,
    node_id: nodeId('PRR', review.id),
    user: userJson(store, review.author),
    body: review.body,
    state: review.state,
    html_url: review.htmlUrl,
    pull_request_url: pullApi,
    author_association: authorAssociation(store, state, review.author),
    submitted_at: review.submittedAt ?? undefined,
    commit_id: review.commitId,
    _links: { html: { href: review.htmlUrl }, pull_request: { href: pullApi } },
  };
}

/** `resolved` is fake-only: the thread's resolution, which real GitHub exposes through GraphQL only. */
export function reviewCommentJson(store: GitHubStore, state: RepoState, comment: ReviewComment): Json {
  const api = `${store.url}/repos/${state.repo.fullName}/pulls/comments/${comment.id}`;
  const pullApi = `${store.url}/repos/${state.repo.fullName}/pulls/${comment.number}`;
  const root = comment.inReplyToId ? state.reviewComments.find((c) => c.id === comment.inReplyToId) : comment;
  const json: Json = {
    url: api,
    pull_request_review_id: comment.reviewId,
    id: comment.id,
    node_id: nodeId('PRRC', comment.id),
    diff_hunk: comment.diffHunk,
    path: comment.path,
    position: comment.line,
    original_position: comment.line,
    commit_id: comment.commitId,
    original_commit_id: comment.commitId,
    user: userJson(store, comment.author),
    body: comment.body,
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    html_url: comment.htmlUrl,
    pull_request_url: pullApi,
    author_association: authorAssociation(store, state, comment.author),
    _links: { self: { href: api }, html: { href: comment.htmlUrl }, pull_request: { href: pullApi } },
    start_line: comment.startLine,
    original_start_line: comment.startLine,
    start_side: comment.startLine ? comment.side : null,
    line: comment.line,
    original_line: comment.line,
    side: comment.side,
    subject_type: 'line',
    resolved: root?.resolved ?? false,
  };
  if (comment.inReplyToId) json.in_reply_to_id = comment.inReplyToId;
  return json;
}

export function checkRunJson(store: GitHubStore, state: RepoState, run: CheckRun): Json {
  return {
    id: run.id,
    node_id: nodeId('CR', run.id),
    head_sha: run.headSha,
    external_id: String(run.id),
    url: `${store.url}/repos/${state.repo.fullName}/check-runs/${run.id}`,
    html_url: run.htmlUrl,
    details_url: run.htmlUrl,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.completedAt,
    completed_at: run.completedAt,
    output: { title: `${run.name} failed`, summary: run.log.split('\n').slice(-20).join('\n'), text: null, annotations_count: 0, annotations_url: '' },
    name: run.name,
    check_suite: { id: run.checkSuiteId },
    app: { id: 15368, slug: 'github-actions', name: 'GitHub Actions' },
    pull_requests: pullRefs(store, state, run.headSha),
  };
}

/** The minimal PR references GitHub puts in check and workflow payloads. */
export function pullRefs(store: GitHubStore, state: RepoState, sha: string): Json[] {
  const repoRef = { id: state.repo.id, url: `${store.url}/repos/${state.repo.fullName}`, name: state.repo.name };
  return [...state.pulls.values()]
    .filter((p) => p.headSha === sha && p.state === 'open')
    .map((p) => ({
      url: `${store.url}/repos/${state.repo.fullName}/pulls/${p.number}`,
      id: p.id,
      number: p.number,
      head: { ref: p.head, sha: p.headSha, repo: repoRef },
      base: { ref: p.base, sha: p.baseSha, repo: repoRef },
    }));
}

export function notificationJson(store: GitHubStore, state: RepoState, thread: NotificationThread): Json {
  const kind = thread.subjectType === 'PullRequest' ? 'pulls' : 'issues';
  const item = thread.subjectType === 'PullRequest' ? state.pulls.get(thread.number) : state.issues.get(thread.number);
  const api = `${store.url}/notifications/threads/${thread.id}`;
  const { owner, ...repo } = repoJson(store, state);
  return {
    id: thread.id,
    unread: thread.unread,
    reason: thread.reason,
    updated_at: thread.updatedAt,
    last_read_at: thread.lastReadAt,
    subject: {
      title: item?.title ?? '',
      url: `${store.url}/repos/${state.repo.fullName}/${kind}/${thread.number}`,
      latest_comment_url: thread.latestCommentUrl ?? `${store.url}/repos/${state.repo.fullName}/${kind}/${thread.number}`,
      type: thread.subjectType,
    },
    repository: { ...repo, owner },
    url: api,
    subscription_url: `${api}/subscription`,
  };
}
