/**
 * Public types of the fake GitHub. State records are plain data for assertions (logins, not
 * user objects); the REST answers render them in GitHub's JSON shapes (see shapes.ts).
 */

/** Repository permission of one user, as `GET /collaborators/{login}/permission` reports it. */
export type Permission = 'admin' | 'write' | 'read' | 'none';

/** A GitHub account. The repository owner is always `admin` on its own repositories. */
export interface User {
  id: number;
  login: string;
  type: 'User' | 'Bot' | 'Organization';
  /** Authenticates REST calls (`Authorization: token|Bearer`) and git pushes (basic auth password). */
  token: string;
}

/** A repository: a real bare git repository under the fake's temporary directory. */
export interface Repo {
  id: number;
  owner: string;
  name: string;
  fullName: string;
  defaultBranch: string;
  private: boolean;
  /** `${gitUrl}/<owner>/<name>.git`, what `clone_url` says. */
  cloneUrl: string;
  htmlUrl: string;
  /** Path of the bare repository on disk. */
  path: string;
  /** Tip of the default branch right after creation. */
  initialSha: string;
}

/** An issue (pull requests are separate records sharing the number sequence). */
export interface Issue {
  id: number;
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  stateReason: 'completed' | 'not_planned' | 'reopened' | null;
  labels: string[];
  assignees: string[];
  author: string;
  htmlUrl: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

/** A pull request. `head`/`base` are branch names of the same repository (no forks). */
export interface Pull {
  id: number;
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  draft: boolean;
  labels: string[];
  assignees: string[];
  author: string;
  head: string;
  headSha: string;
  base: string;
  /** Base branch tip (frozen at merge time, so diffs of merged PRs stay meaningful). */
  baseSha: string;
  requestedReviewers: string[];
  merged: boolean;
  mergedBy: string | null;
  mergeCommitSha: string | null;
  htmlUrl: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  mergedAt: string | null;
}

/** A submitted (or pending) pull request review. */
export interface Review {
  id: number;
  /** Pull request number. */
  number: number;
  author: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'PENDING' | 'DISMISSED';
  body: string;
  commitId: string;
  htmlUrl: string;
  submittedAt: string | null;
}

/** A conversation comment on an issue or a pull request (`/issues/{n}/comments`). */
export interface Comment {
  id: number;
  number: number;
  author: string;
  body: string;
  htmlUrl: string;
  createdAt: string;
  updatedAt: string;
}

/**
 * An inline review comment. A thread is its first comment plus every reply
 * (`inReplyToId` = the first comment's id). `resolved` lives on the thread's first comment;
 * REST answers carry it as the fake-only field `resolved` on every comment of the thread,
 * GraphQL answers as `reviewThreads.nodes[].isResolved`.
 */
export interface ReviewComment {
  id: number;
  number: number;
  reviewId: number;
  author: string;
  path: string;
  line: number;
  side: 'LEFT' | 'RIGHT';
  startLine: number | null;
  body: string;
  commitId: string;
  inReplyToId: number | null;
  resolved: boolean;
  diffHunk: string;
  htmlUrl: string;
  createdAt: string;
  updatedAt: string;
}

/** A completed check run; its id is also the Actions job id (as on GitHub). */
export interface CheckRun {
  id: number;
  name: string;
  headSha: string;
  headBranch: string | null;
  status: 'completed';
  conclusion: 'failure' | 'success';
  checkSuiteId: number;
  workflowRunId: number;
  log: string;
  htmlUrl: string;
  completedAt: string;
}

/** A notification thread of one user (`GET /notifications`). */
export interface NotificationThread {
  id: string;
  login: string;
  repo: string;
  number: number;
  subjectType: 'Issue' | 'PullRequest';
  reason: 'assign' | 'mention' | 'review_requested' | 'author' | 'comment' | 'state_change' | 'ci_activity';
  unread: boolean;
  done: boolean;
  updatedAt: string;
  lastReadAt: string | null;
  /** API url of the latest comment that touched the thread, if any. */
  latestCommentUrl: string | null;
}

/** One webhook delivery attempt, recorded whether or not a webhook url is set. */
export interface WebhookDelivery {
  id: string;
  event: string;
  action: string | undefined;
  payload: any;
  /** Where it went; null when no webhook is configured (recorded, not sent). */
  url: string | null;
  /** Receiver's status, or null (not sent, or the connection failed: see `error`). */
  status: number | null;
  responseBody: string | null;
  error: string | null;
}

/** Every REST, GraphQL and git request, in arrival order. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/repos/o/r/issues` or `/git/o/r.git/info/refs`. */
  path: string;
  query: string;
  token: string | null;
  /** Login the token authenticated as; null for anonymous and rejected requests. */
  login: string | null;
  status: number;
  /** Parsed JSON body of REST/GraphQL requests. */
  body?: unknown;
}

/** An injected failure: the next `times` matching requests get this answer instead. */
export interface InjectedFailure {
  method?: string;
  path: string | RegExp;
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Default 1. */
  times?: number;
  /** Matching requests let through before the failures start (default 0). */
  after?: number;
}

/** What `setCheckFailure` created. */
export interface CheckFailure {
  checkRun: CheckRun;
  checkSuiteId: number;
  workflowRunId: number;
  jobId: number;
  headSha: string;
}

/** A running fake GitHub: REST API at `url`, git smart HTTP at `gitUrl`. */
export interface FakeGitHub {
  /** `http://127.0.0.1:PORT`: the REST API root (`github.apiUrl`), also the html_url host. */
  url: string;
  /** `${url}/git`: clone URLs are `${gitUrl}/<owner>/<repo>.git`. */
  gitUrl: string;
  /** Adds an account; `token` defaults to `ghp_fake_<login>`. */
  addUser(login: string, opts?: { token?: string; type?: 'User' | 'Bot' | 'Organization' }): { id: number; login: string; token: string };
  /** A real bare repository with one initial commit by the owner (created as a user if unknown). */
  createRepo(owner: string, name: string, files: Record<string, string>, opts?: { defaultBranch?: string; private?: boolean }): Promise<Repo>;
  /**
   * Registers a GitHub App installed as `installationId`, keeping only its public key (PEM).
   * `POST /app/installations/{id}/access_tokens` verifies the RS256 JWT against it and hands out
   * installation tokens that act as `<slug>[bot]` (default `pantheon-app[bot]`); `tokens` lists them.
   */
  addApp(opts: { appId: number | string; publicKey: string; installationId: number; slug?: string }): { login: string; tokens: readonly string[] };
  setPermission(owner: string, repo: string, login: string, permission: Permission): void;
  /** Later state changes are POSTed here, signed with `secret`. */
  setWebhook(url: string, secret: string): void;
  /**
   * Sends one webhook now (tests: hand-made payloads, bad signatures, redelivery).
   * `signature: null` omits the header; a string is sent as is; `deliveryId` reuses an id.
   */
  sendWebhook(event: string, payload: object, opts?: { secret?: string; deliveryId?: string; signature?: string | null }): Promise<Response>;

  issues(owner: string, repo: string): Issue[];
  pulls(owner: string, repo: string): Pull[];
  reviews(owner: string, repo: string, number: number): Review[];
  comments(owner: string, repo: string, number: number): Comment[];
  reviewComments(owner: string, repo: string, number: number): ReviewComment[];
  notifications(login: string): NotificationThread[];
  checkRuns(owner: string, repo: string): CheckRun[];
  /** Marks the review thread started by `commentId` resolved (or not), like GraphQL `resolveReviewThread`. */
  resolveReviewThread(owner: string, repo: string, commentId: number, resolved?: boolean): void;

  /** Every REST, GraphQL and git request with its authenticated login. */
  readonly requests: RecordedRequest[];
  /** Every webhook delivery (automatic and `sendWebhook`), oldest first. */
  readonly deliveries: WebhookDelivery[];
  /** Resolves once every queued webhook has been delivered. */
  settled(): Promise<void>;
  /** Waits (default 5 s) for a delivery matching `event` (and `action`, and `predicate`). */
  waitForDelivery(event: string, action?: string, predicate?: (d: WebhookDelivery) => boolean, timeoutMs?: number): Promise<WebhookDelivery>;
  /** Answers matching requests with an error (e.g. 429 with Retry-After, 502). */
  injectFailure(failure: InjectedFailure): void;

  /**
   * Records a failed check run on `shaOrPr` (a commit sha, a branch, or a PR number → its head),
   * with a workflow job log, and sends check_run, check_suite and workflow_run `completed`.
   */
  setCheckFailure(owner: string, repo: string, shaOrPr: string | number, opts: { name: string; log: string }): Promise<CheckFailure>;
  /** Runs git in the bare repository and returns stdout (e.g. `log --format=%an%x09%s main`). */
  git(owner: string, repo: string, ...args: string[]): Promise<string>;
  close(): Promise<void>;
}
