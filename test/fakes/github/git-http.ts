/**
 * Git smart HTTP at `/git/<owner>/<repo>.git/...` through the real `git http-backend` (CGI).
 * Like GitHub: fetching a public repository needs no credentials; pushing answers 401 with a
 * Basic challenge until the client sends a user's token as the password (any user name,
 * e.g. `x-access-token`), then 403 unless that user has write access.
 */
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { branches, gitEnv } from './git-repo.js';
import type { GitHubStore, RepoState } from './store.js';
import type { User } from './types.js';

const BACKEND = '/usr/lib/git-core/git-http-backend';

/** What a push changed: branch → [before, after] (null = created/deleted). */
export type RefChanges = Map<string, [string | null, string | null]>;

export interface GitRequestOutcome {
  status: number;
  login: string | null;
  token: string | null;
}

/** Credentials from `Authorization: Basic`: GitHub takes the token as password (or as user name with an empty password). */
function basicToken(req: IncomingMessage): string | null {
  const header = String(req.headers.authorization ?? '');
  const m = /^Basic\s+(\S+)/i.exec(header);
  if (m) {
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    const user = i < 0 ? decoded : decoded.slice(0, i);
    const password = i < 0 ? '' : decoded.slice(i + 1);
    return password || user || null;
  }
  const bearer = /^(?:token|bearer)\s+(\S+)/i.exec(header);
  return bearer ? bearer[1] : null;
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(text);
}

export async function handleGitRequest(
  store: GitHubStore,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  onPush: (state: RepoState, actor: User, changes: RefChanges) => void,
): Promise<GitRequestOutcome> {
  const token = basicToken(req);
  const m = /^\/git\/([^/]+)\/([^/]+?)(?:\.git)?(\/.*)$/.exec(url.pathname);
  const state = m ? store.repoState(decodeURIComponent(m[1]), decodeURIComponent(m[2])) : undefined;
  const actor = token ? (store.byToken.get(token) ?? null) : null;
  const outcome: GitRequestOutcome = { status: 200, login: actor?.login ?? null, token };
  const challenge = { 'www-authenticate': 'Basic realm="GitHub"' };
  if (token && !actor) {
    plain(res, (outcome.status = 401), 'Invalid username or token. Password authentication is not supported for Git operations.\n', challenge);
    return outcome;
  }
  if (!m || !state) {
    plain(res, (outcome.status = 404), 'Repository not found.\n');
    return outcome;
  }
  const isPush = url.searchParams.get('service') === 'git-receive-pack' || m[3] === '/git-receive-pack';
  const permission = store.permission(state, actor?.login);
  if ((isPush || permission === 'none') && !actor) {
    plain(res, (outcome.status = 401), 'Authentication required.\n', challenge);
    return outcome;
  }
  if (permission === 'none') {
    plain(res, (outcome.status = 404), 'Repository not found.\n');
    return outcome;
  }
  if (isPush && !store.canWrite(state, actor!.login)) {
    plain(res, (outcome.status = 403), `Permission to ${state.repo.fullName}.git denied to ${actor!.login}.\n`);
    return outcome;
  }

  const before = isPush && req.method === 'POST' ? await branches(state.repo.path) : null;
  outcome.status = await runBackend(store, state, req, res, url, m[3], actor);
  try {
    if (before) {
      const after = await branches(state.repo.path);
      const changes: RefChanges = new Map();
      for (const name of new Set([...before.keys(), ...after.keys()])) {
        const a = before.get(name) ?? null;
        const b = after.get(name) ?? null;
        if (a !== b) changes.set(name, [a, b]);
      }
      if (changes.size > 0) onPush(state, actor!, changes);
    }
  } finally {
    if (!res.writableEnded) res.end();
  }
  return outcome;
}

/** Runs git-http-backend for one request, streaming the body in and the CGI answer out. */
function runBackend(store: GitHubStore, state: RepoState, req: IncomingMessage, res: ServerResponse, url: URL, rest: string, actor: User | null): Promise<number> {
  const relative = path.relative(path.join(store.root, 'repos'), state.repo.path);
  const env = gitEnv({
    GIT_PROJECT_ROOT: path.join(store.root, 'repos'),
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: `/${relative}${rest}`,
    QUERY_STRING: url.search.replace(/^\?/, ''),
    REQUEST_METHOD: req.method ?? 'GET',
    CONTENT_TYPE: String(req.headers['content-type'] ?? ''),
    REMOTE_ADDR: '127.0.0.1',
    ...(req.headers['content-length'] ? { CONTENT_LENGTH: String(req.headers['content-length']) } : {}),
    ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
    ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
    ...(actor ? { REMOTE_USER: actor.login } : {}),
  });
  return new Promise((resolve) => {
    const child = spawn(BACKEND, [], { env });
    let head = Buffer.alloc(0);
    let headersDone = false;
    let status = 200;
    const stderr: Buffer[] = [];
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const crlf = head.indexOf('\r\n\r\n');
      const lf = head.indexOf('\n\n');
      const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
      if (end < 0) return;
      const sep = end === crlf ? 4 : 2;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const key = line.slice(0, i).trim().toLowerCase();
        const value = line.slice(i + 1).trim();
        if (key === 'status') status = Number(value.split(' ')[0]) || 200;
        else headers[key] = value;
      }
      headersDone = true;
      res.writeHead(status, headers);
      res.write(head.subarray(end + sep));
    });
    child.on('error', (err) => {
      if (!res.headersSent) plain(res, 500, `git http-backend failed: ${err.message}\n`);
      resolve(500);
    });
    // The caller ends the response: a push's effects (PR head shas) must be recorded before the
    // client sees the push complete.
    child.on('close', (code) => {
      if (!headersDone) {
        status = 500;
        if (!res.headersSent) plain(res, 500, `git http-backend exited ${code}: ${Buffer.concat(stderr).toString('utf8')}`);
      }
      resolve(status);
    });
    req.pipe(child.stdin);
    child.stdin.on('error', () => {});
  });
}
