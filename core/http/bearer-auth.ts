import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';

/** Paths that need the console token. `/healthz`, `/metrics` and `/webhooks/*` stay open. */
export function isProtectedPath(url: string): boolean {
  const path = url.split('?')[0];
  return path === '/api' || path.startsWith('/api/');
}

/**
 * An `onRequest` hook requiring `Authorization: Bearer <consoleToken>` on `/api/*`.
 * Webhooks are not covered: each platform signs its own requests and they verify that.
 */
export function createBearerAuth(consoleToken: string) {
  const expected = digest(consoleToken);
  return async function requireBearer(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    if (!isProtectedPath(request.url)) return undefined;
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    // Comparing fixed-length digests keeps the comparison constant-time whatever the lengths.
    if (match && timingSafeEqual(digest(match[1]), expected)) return undefined;
    reply.header('www-authenticate', 'Bearer');
    // Returning the reply tells Fastify the answer is sent and the route must not run.
    return sendError(
      request,
      reply,
      401,
      'unauthorized',
      match ? 'the bearer token is not valid' : 'this endpoint needs an Authorization: Bearer <token> header with PANTHEON_CONSOLE_TOKEN',
    );
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
