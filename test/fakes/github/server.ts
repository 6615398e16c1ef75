import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pullRequestEvent } from './events.js';
import { handleGitRequest, type RefChanges } from './git-http.js';
import { createBareRepo, git } from './git-repo.js';
import { badCredentials, DOCS, HttpError, notFound, Router, type PendingEvent, type Reply, type RequestContext } from './http.js';
import { registerAppRoutes, type FakeApp } from './routes/apps.js';
import { recordCheckFailure, registerCheckRoutes } from './routes/checks.js';
import { registerGraphqlRoutes } from './routes/graphql.js';
import { registerIssueRoutes } from './routes/issues.js';
import { registerNotificationRoutes } from './routes/notifications.js';
import { registerPullRoutes } from './routes/pulls.js';
import { registerRepoRoutes } from './routes/repos.js';
import { registerReviewRoutes } from './routes/reviews.js';
import { registerSearchRoutes } from './routes/search.js';
import { GitHubStore, type RepoState } from './store.js';
import type { FakeGitHub, InjectedFailure, Permission, RecordedRequest, Repo, User } from './types.js';
import { WebhookSender } from './webhooks.js';
import { registerHookRoutes } from './routes/hooks.js';
import { readBody } from '../http-body.js';

export interface StartFakeGitHubOptions {
  /** Where state changes are POSTed as webhooks (also settable later with `setWebhook`). */
  webhookUrl?: string;
  webhookSecret?: string;
}

/** Rate-limit budget per token (or anonymous) and resource; reported, never enforced (see `injectFailure`). */
const LIMITS: Record<string, number> = { core: 5000, search: 30, graphql: 5000 };

/** `Authorization: token X` or `Bearer X` (octokit sends the former for PATs). */
function bearerToken(req: IncomingMessage): string | null {
  const m = /^(?:token|bearer)\s+(\S+)/i.exec(String(req.headers.authorization ?? ''));
  return m ? m[1] : null;
}

export async function startFakeGitHub(opts: StartFakeGitHubOptions = {}): Promise<FakeGitHub> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'fake-github-'));
  await mkdir(path.join(root, 'repos'));
  // A test that never calls close() (or fails before it) still leaves no repositories behind.
  const removeRoot = (): void => rmSync(root, { recursive: true, force: true });
  process.once('exit', removeRoot);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const store = new GitHubStore(url, `${url}/git`, root);
  const webhooks = new WebhookSender(opts.webhookUrl, opts.webhookSecret);
  const requests: RecordedRequest[] = [];
  const failures: Array<InjectedFailure & { left: number; pass: number }> = [];
  const usage = new Map<string, { used: number; reset: number }>();

  const router = new Router();
  registerRepoRoutes(router, store);
  registerIssueRoutes(router, store);
  registerSearchRoutes(router, store);
  registerPullRoutes(router, store);
  registerReviewRoutes(router, store);
  registerNotificationRoutes(router, store);
  registerCheckRoutes(router, store);
  registerGraphqlRoutes(router, store);
  const apps = new Map<number, FakeApp>();
  registerAppRoutes(router, store, apps);
  registerHookRoutes(router, store, webhooks);

  /** A push moves PR heads (and bases) and sends `synchronize`; deleting a head branch closes its PR. */
  const onPush = (state: RepoState, actor: User, changes: RefChanges): void => {
    const events: Array<Promise<PendingEvent>> = [];
    const now = store.now();
    for (const [branch, [before, after]] of changes) {
      for (const pull of state.pulls.values()) {
        if (pull.state !== 'open') continue;
        if (pull.base === branch && after) pull.baseSha = after;
        if (pull.head !== branch) continue;
        if (after) {
          pull.headSha = after;
          pull.updatedAt = now;
          events.push(pullRequestEvent(store, state, 'synchronize', pull, actor.login, { before, after }));
        } else {
          Object.assign(pull, { state: 'closed', closedAt: now, updatedAt: now });
          events.push(pullRequestEvent(store, state, 'closed', pull, actor.login));
        }
      }
    }
    if (events.length > 0) webhooks.enqueue(Promise.all(events));
  };

  function rateHeaders(token: string | null, pathname: string): Record<string, string> {
    const resource = pathname.startsWith('/search/') ? 'search' : pathname === '/graphql' ? 'graphql' : 'core';
    const limit = token ? LIMITS[resource] : resource === 'search' ? 10 : 60;
    const key = `${token ?? 'anonymous'}:${resource}`;
    const nowSec = Math.floor(Date.now() / 1000);
    let entry = usage.get(key);
    if (!entry || entry.reset <= nowSec) usage.set(key, (entry = { used: 0, reset: nowSec + (resource === 'search' ? 60 : 3600) }));
    entry.used++;
    return {
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(Math.max(0, limit - entry.used)),
      'x-ratelimit-reset': String(entry.reset),
      'x-ratelimit-used': String(entry.used),
      'x-ratelimit-resource': resource,
    };
  }

  function send(res: ServerResponse, status: number, reply: Reply, headers: Record<string, string>): void {
    const all: Record<string, string> = { 'x-github-request-id': randomUUID(), 'x-github-media-type': 'github.v3; format=json', ...headers, ...reply.headers };
    if (status === 204 || status === 205 || status === 304 || (reply.json === undefined && reply.text === undefined)) {
      res.writeHead(status, all);
      res.end();
      return;
    }
    const text = reply.text ?? JSON.stringify(reply.json);
    all['content-type'] = reply.contentType ?? 'application/json; charset=utf-8';
    all['content-length'] = String(Buffer.byteLength(text));
    res.writeHead(status, all);
    res.end(text);
  }

  async function handleRest(req: IncomingMessage, res: ServerResponse, u: URL, record: RecordedRequest): Promise<void> {
    const token = bearerToken(req);
    const actor = token ? (store.byToken.get(token) ?? null) : null;
    record.token = token;
    record.login = actor?.login ?? null;
    const headers = rateHeaders(token, u.pathname);
    const raw = await readBody(req);
    let reply: Reply;
    let status: number;
    const events: PendingEvent[] = [];
    try {
      if (raw) {
        try {
          record.body = JSON.parse(raw);
        } catch {
          throw new HttpError(400, { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' });
        }
      }
      // App routes authenticate with a JWT, which routes/apps.ts verifies.
      if (token && !actor && !u.pathname.startsWith('/app/')) throw badCredentials();
      const failure = failures.find((f) => (!f.method || f.method === req.method) && (typeof f.path === 'string' ? f.path === u.pathname : f.path.test(u.pathname)));
      if (failure && failure.pass > 0) failure.pass--;
      else if (failure) {
        if (--failure.left <= 0) failures.splice(failures.indexOf(failure), 1);
        throw new HttpError(failure.status, (failure.body as Record<string, any>) ?? { message: `injected ${failure.status}`, documentation_url: DOCS }, failure.headers);
      }
      const match = router.match(req.method ?? 'GET', u.pathname);
      if (!match) throw notFound();
      const ctx: RequestContext = {
        method: req.method ?? 'GET',
        path: u.pathname,
        params: match.params,
        query: new URLSearchParams(u.searchParams),
        body: record.body,
        headers: req.headers,
        actor,
        events,
      };
      reply = await match.handler(ctx);
      status = reply.status ?? 200;
    } catch (err) {
      events.length = 0;
      if (err instanceof HttpError) {
        status = err.status;
        reply = { json: err.body, headers: err.headers };
      } else {
        status = 500;
        reply = { json: { message: `fake GitHub: ${err instanceof Error ? err.message : String(err)}`, documentation_url: DOCS } };
        console.error('fake GitHub: handler failed:', err);
      }
    }
    record.status = status;
    send(res, status, reply, headers);
    if (events.length > 0) webhooks.enqueue(events);
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', url);
    const record: RecordedRequest = { method: req.method ?? 'GET', path: u.pathname, query: u.search.replace(/^\?/, ''), token: null, login: null, status: 0 };
    requests.push(record);
    const done = u.pathname.startsWith('/git/') ? handleGitRequest(store, req, res, u, onPush).then((outcome) => Object.assign(record, outcome)) : handleRest(req, res, u, record);
    done.catch((err) => {
      console.error('fake GitHub: request failed:', err);
      record.status = 500;
      if (!res.headersSent) res.writeHead(500);
      if (!res.writableEnded) res.end();
    });
  });

  const requireState = (owner: string, name: string): RepoState => {
    const state = store.repoState(owner, name);
    if (!state) throw new Error(`fake GitHub: no repository ${owner}/${name}`);
    return state;
  };

  const fake: FakeGitHub = {
    url,
    gitUrl: store.gitUrl,
    requests,
    deliveries: webhooks.deliveries,

    addUser(login, o = {}) {
      const user = store.addUser(login, o);
      return { id: user.id, login: user.login, token: user.token };
    },

    async createRepo(owner, name, files, o = {}) {
      if (store.repoState(owner, name)) throw new Error(`fake GitHub: ${owner}/${name} already exists`);
      const user = store.user(owner) ?? store.addUser(owner);
      const gitDir = path.join(root, 'repos', user.login, `${name}.git`);
      const defaultBranch = o.defaultBranch ?? 'main';
      const initialSha = await createBareRepo(gitDir, user, files, defaultBranch);
      const repo: Repo = {
        id: store.nextId('repo'),
        owner: user.login,
        name,
        fullName: `${user.login}/${name}`,
        defaultBranch,
        private: o.private ?? false,
        cloneUrl: `${store.gitUrl}/${user.login}/${name}.git`,
        htmlUrl: `${url}/${user.login}/${name}`,
        path: gitDir,
        initialSha,
      };
      store.repos.set(repo.fullName.toLowerCase(), {
        repo,
        createdAt: store.now(),
        permissions: new Map(),
        issues: new Map(),
        pulls: new Map(),
        nextNumber: 1,
        comments: [],
        reviews: [],
        reviewComments: [],
        labels: new Map(),
        checkRuns: [],
      });
      return { ...repo };
    },

    addApp(o) {
      const slug = o.slug ?? 'pantheon-app';
      const bot = store.addUser(`${slug}[bot]`, { type: 'Bot' });
      apps.set(o.installationId, { appId: String(o.appId), slug, publicKey: o.publicKey, installationId: o.installationId, bot, tokens: [] });
      return { login: bot.login, tokens: apps.get(o.installationId)!.tokens };
    },

    setPermission(owner, repo, login, permission: Permission) {
      const state = requireState(owner, repo);
      const user = store.user(login) ?? store.addUser(login);
      if (permission === 'none') state.permissions.delete(user.login.toLowerCase());
      else state.permissions.set(user.login.toLowerCase(), permission);
    },

    setWebhook(hookUrl, secret) {
      webhooks.configure(hookUrl, secret);
    },

    sendWebhook(event, payload, o = {}) {
      return webhooks.sendNow(event, payload, o);
    },

    issues: (owner, repo) => [...requireState(owner, repo).issues.values()],
    pulls: (owner, repo) => [...requireState(owner, repo).pulls.values()],
    reviews: (owner, repo, number) => requireState(owner, repo).reviews.filter((r) => r.number === number),
    comments: (owner, repo, number) => requireState(owner, repo).comments.filter((c) => c.number === number),
    reviewComments: (owner, repo, number) => requireState(owner, repo).reviewComments.filter((c) => c.number === number),
    notifications: (login) => store.notifications.filter((t) => t.login.toLowerCase() === login.toLowerCase()),
    checkRuns: (owner, repo) => [...requireState(owner, repo).checkRuns],

    resolveReviewThread(owner, repo, commentId, resolved = true) {
      const comment = requireState(owner, repo).reviewComments.find((c) => c.id === commentId);
      if (!comment) throw new Error(`fake GitHub: no review comment ${commentId} in ${owner}/${repo}`);
      const root = comment.inReplyToId ? requireState(owner, repo).reviewComments.find((c) => c.id === comment.inReplyToId)! : comment;
      root.resolved = resolved;
    },

    settled: () => webhooks.settled(),
    waitForDelivery: (event, action, predicate, timeoutMs = 5000) => webhooks.waitFor(event, action, predicate, timeoutMs),

    injectFailure(failure) {
      failures.push({ ...failure, left: failure.times ?? 1, pass: failure.after ?? 0 });
    },

    async setCheckFailure(owner, repo, shaOrPr, o) {
      const state = requireState(owner, repo);
      const { run, events } = await recordCheckFailure(store, state, shaOrPr, o);
      webhooks.enqueue(events);
      return { checkRun: { ...run }, checkSuiteId: run.checkSuiteId, workflowRunId: run.workflowRunId, jobId: run.id, headSha: run.headSha };
    },

    git(owner, repo, ...args) {
      return git(requireState(owner, repo).repo.path, args);
    },

    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.race([webhooks.settled(), new Promise((r) => setTimeout(r, 2000).unref())]);
      process.off('exit', removeRoot);
      await rm(root, { recursive: true, force: true });
    },
  };
  return fake;
}
