import type { FastifyRequest } from 'fastify';
import type { EventStream } from '../core/http/event-stream.js';
import { cookieOf, SESSION_COOKIE, type SessionVerifier } from '../core/http/principal.js';

/**
 * A stream opened by a console session ends when the session does (signed out in another tab,
 * expired, its human removed): its client's reconnection is then refused like any request, and
 * the console goes to the sign-in page. Looked at every `intervalMs`; the bearer token's streams
 * are left alone.
 */
export function endWithSession(req: FastifyRequest, stream: EventStream, sessions: SessionVerifier, intervalMs = 5000): void {
  if (req.principal?.kind !== 'human') return;
  const id = cookieOf(req, SESSION_COOKIE);
  if (!id) return;
  const timer = setInterval(() => {
    sessions.verify(id).then(
      (session) => {
        if (!session) stream.close();
      },
      () => {},
    );
  }, intervalMs);
  timer.unref();
  stream.onClose(() => clearInterval(timer));
}
