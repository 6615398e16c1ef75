import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';
import { cookieOf, CSRF_HEADER, SESSION_COOKIE, type SessionVerifier } from './principal.js';
import { signInPage } from './sign-in-page.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route answers without credentials (probes, the console's sign-in page). Every other
     * route needs the bearer token or a console session: deny by default.
     */
    public?: boolean;
  }
}

/** Core routes that answer anyone: probes and the Prometheus scrape. */
const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Methods that change nothing: a session needs no CSRF token for them. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether a MATCHED route answers without credentials: its config says `public: true`,
 * it is a probe, or it is a platform webhook (`/webhooks/...`), which verifies the platform's
 * own signature. `routeUrl` is the route's pattern as registered (`request.routeOptions.url`),
 * never the raw request URL: the router decodes `%61pi`, so a check on the raw URL can be
 * walked around. An unmatched request (`undefined`) is not public: a 404 tells nothing to
 * someone without credentials.
 */
export function isPublicRoute(routeUrl: string | undefined, config?: { public?: boolean }): boolean {
  if (routeUrl === undefined) return false;
  if (config?.public === true) return true;
  return PUBLIC_PATHS.has(routeUrl) || routeUrl.startsWith('/webhooks/');
}

/**
 * An `onRequest` hook requiring a credential on every route that is not public (see
 * `isPublicRoute`), and on requests no route matched: `Authorization: Bearer <token>` (the
 * operator), or a console session cookie (a human of `humans:`; with `sessions` only). A session
 * changing anything must also send its CSRF token in `X-CSRF-Token`, from a page of this origin.
 * By `onRequest` the router has matched, so the decision is made on the route that would run.
 * Sets `request.principal`.
 */
export function createBearerAuth(consoleToken: string, sessions?: SessionVerifier) {
  const expected = digest(consoleToken);
  return async function requireCredential(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    request.principal = null;
    const matched = request.is404 ? undefined : request.routeOptions.url;
    if (isPublicRoute(matched, request.routeOptions.config)) return undefined;
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    // Comparing fixed-length digests keeps the comparison constant-time whatever the lengths.
    if (match && timingSafeEqual(digest(match[1]!), expected)) {
      request.principal = { kind: 'operator' };
      return undefined;
    }
    const cookie = sessions && !header ? cookieOf(request, SESSION_COOKIE) : undefined;
    const session = cookie ? await sessions!.verify(cookie) : undefined;
    if (session) {
      if (!SAFE_METHODS.has(request.method)) {
        const refusal = csrfRefusal(request, session.csrfToken);
        if (refusal) return sendError(request, reply, 403, 'csrf_refused', refusal);
      }
      request.principal = { kind: 'human', ...session };
      return undefined;
    }
    // A person's browser asking for a page gets a page telling them how to sign in.
    if (!matched?.startsWith('/api/') && SAFE_METHODS.has(request.method) && wantsHtml(request)) {
      return reply
        .code(401)
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(signInPage(cookie ? 'expired' : 'none'));
    }
    reply.header('www-authenticate', 'Bearer');
    // Returning the reply tells Fastify the answer is sent and the route must not run.
    return sendError(
      request,
      reply,
      401,
      'unauthorized',
      match
        ? 'the bearer token is not valid'
        : cookie
          ? 'the console session has ended or expired; sign in again with a new login link'
          : 'this endpoint needs an Authorization: Bearer <token> header (`pantheon token` prints it; PANTHEON_CONSOLE_TOKEN when set) or a console session',
    );
  };
}

/**
 * Why a state-changing request made with a session cookie is refused, if it is: the CSRF token
 * must match the session's, and a browser's `Origin` (sent on every cross-origin and every POST
 * request) must be this server's own. Another site can make a browser send the cookie, but can
 * neither read the token nor forge the Origin header.
 */
function csrfRefusal(request: FastifyRequest, csrfToken: string): string | undefined {
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== 'string' || !timingSafeEqual(digest(sent), digest(csrfToken))) {
    return `a request that changes something needs the session's CSRF token in the ${CSRF_HEADER} header (GET /api/me gives it)`;
  }
  const origin = request.headers.origin;
  if (origin !== undefined && !sameOrigin(origin, request.headers.host)) return `requests from ${origin} are refused: only the console's own pages may change things`;
  return undefined;
}

/** Whether an Origin header names the host the request was sent to. */
export function sameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return typeof accept === 'string' && accept.includes('text/html');
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
