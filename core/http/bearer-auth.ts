import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route answers without credentials (probes, the console's sign-in page). Every other
     * route needs the bearer token: deny by default.
     */
    public?: boolean;
  }
}

/** Core routes that answer anyone: probes and the Prometheus scrape. */
const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Whether a MATCHED route answers without the bearer token: its config says `public: true`,
 * it is a probe, or it is a platform webhook (`/webhooks/...`), which verifies the platform's
 * own signature. `routeUrl` is the route's pattern as registered (`request.routeOptions.url`),
 * never the raw request URL: the router decodes `%61pi`, so a check on the raw URL can be
 * walked around. An unmatched request (`undefined`) is not public: a 404 tells nothing to
 * someone without the token.
 */
export function isPublicRoute(routeUrl: string | undefined, config?: { public?: boolean }): boolean {
  if (routeUrl === undefined) return false;
  if (config?.public === true) return true;
  return PUBLIC_PATHS.has(routeUrl) || routeUrl.startsWith('/webhooks/');
}

/**
 * An `onRequest` hook requiring `Authorization: Bearer <token>` on every route that is not
 * public (see `isPublicRoute`), and on requests no route matched. By `onRequest` the router
 * has matched, so the decision is made on the route that would run.
 */
export function createBearerAuth(consoleToken: string) {
  const expected = digest(consoleToken);
  return async function requireBearer(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const matched = request.is404 ? undefined : request.routeOptions.url;
    if (isPublicRoute(matched, request.routeOptions.config)) return undefined;
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    // Comparing fixed-length digests keeps the comparison constant-time whatever the lengths.
    if (match && timingSafeEqual(digest(match[1]!), expected)) return undefined;
    reply.header('www-authenticate', 'Bearer');
    // Returning the reply tells Fastify the answer is sent and the route must not run.
    return sendError(
      request,
      reply,
      401,
      'unauthorized',
      match ? 'the bearer token is not valid' : 'this endpoint needs an Authorization: Bearer <token> header; `pantheon token` prints the token (PANTHEON_CONSOLE_TOKEN when set)',
    );
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
