/**
 * The fake's small REST framework: a method+pattern router, GitHub's error bodies, and
 * `Link` header pagination.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { GitHubStore, RepoState } from './store.js';
import type { User } from './types.js';

type Json = Record<string, any>;

export const DOCS = 'https://docs.github.com/rest';

/** Thrown by handlers; rendered as GitHub renders errors. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Json,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message ?? status));
  }
}

export function notFound(): HttpError {
  return new HttpError(404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
}

export function requiresAuth(): HttpError {
  return new HttpError(401, { message: 'Requires authentication', documentation_url: DOCS, status: '401' });
}

export function badCredentials(): HttpError {
  return new HttpError(401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });
}

export function forbidden(message = 'Resource not accessible by personal access token'): HttpError {
  return new HttpError(403, { message, documentation_url: DOCS, status: '403' });
}

/** GitHub's 422: `errors` are objects (`{resource, field, code}`) or, for reviews, plain strings. */
export function validationFailed(errors: Array<Json | string>, message = 'Validation Failed'): HttpError {
  return new HttpError(422, { message, errors, documentation_url: DOCS, status: '422' });
}

export function missingField(resource: string, field: string): HttpError {
  return validationFailed([{ resource, field, code: 'missing_field' }]);
}

/** What a handler answers: JSON by default, or text (diffs, logs). */
export interface Reply {
  status?: number;
  json?: unknown;
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** A queued webhook, sent after the REST answer. */
export interface PendingEvent {
  event: string;
  payload: Json;
}

export interface RequestContext {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: any;
  headers: IncomingHttpHeaders;
  /** The authenticated user, null for anonymous requests (bad tokens never get this far). */
  actor: User | null;
  /** Webhooks to send once the answer is out. */
  events: PendingEvent[];
}

export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;

interface Route {
  method: string;
  regex: RegExp;
  keys: string[];
  handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  /** `pattern` like `/repos/:owner/:repo/issues/:number`; `*name` matches the rest (with slashes); `:…number`/`:…id` only digits. */
  add(method: string, pattern: string, handler: Handler): void {
    const keys: string[] = [];
    const source = pattern.replace(/[:*](\w+)/g, (m, key: string) => {
      keys.push(key);
      if (m.startsWith('*')) return '(.+)';
      // Numbers and ids are digits, so `/issues/comments` never matches `/issues/:number`.
      return /(?:number|id)$/i.test(key) ? '(\\d+)' : '([^/]+)';
    });
    this.routes.push({ method, regex: new RegExp(`^${source}/?$`), keys, handler });
  }

  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.regex.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((key, i) => {
        params[key] = decodeURIComponent(m[i + 1]);
      });
      return { handler: route.handler, params };
    }
    return undefined;
  }
}

export function requireActor(ctx: RequestContext): User {
  if (!ctx.actor) throw requiresAuth();
  return ctx.actor;
}

/** The repository in `:owner/:repo`, or 404 (also for private repos the caller cannot see). */
export function requireRepo(store: GitHubStore, ctx: RequestContext): RepoState {
  const state = store.repoState(ctx.params.owner, ctx.params.repo);
  if (!state || store.permission(state, ctx.actor?.login) === 'none') throw notFound();
  return state;
}

export function requireWrite(store: GitHubStore, state: RepoState, ctx: RequestContext): User {
  const actor = requireActor(ctx);
  if (!store.canWrite(state, actor.login)) throw forbidden();
  return actor;
}

export function intParam(ctx: RequestContext, key: string): number {
  const n = Number(ctx.params[key]);
  if (!Number.isInteger(n) || n <= 0) throw notFound();
  return n;
}

/** One page of `items` with GitHub's `Link` header (`per_page` max 100, default 30). */
export function paginate<T>(store: GitHubStore, ctx: RequestContext, items: T[], render: (item: T) => unknown): Reply {
  const perPage = Math.min(100, Math.max(1, Number(ctx.query.get('per_page')) || 30));
  const page = Math.max(1, Number(ctx.query.get('page')) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const link = (p: number, rel: string): string => {
    const query = new URLSearchParams(ctx.query);
    query.set('per_page', String(perPage));
    query.set('page', String(p));
    return `<${store.url}${ctx.path}?${query}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(page - 1, 'prev'));
  if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
  if (page > 1) links.push(link(1, 'first'));
  return { json: slice.map(render), headers: links.length > 0 ? { link: links.join(', ') } : undefined };
}

/** Logins mentioned as `@login` in markdown text that are known users. */
export function mentions(store: GitHubStore, text: string | null | undefined): string[] {
  const found = new Set<string>();
  for (const m of (text ?? '').matchAll(/(?:^|[^\w`])@([A-Za-z0-9][A-Za-z0-9-]*(?:\[bot\])?)/g)) {
    const user = store.user(m[1]);
    if (user) found.add(user.login);
  }
  return [...found];
}
