import type { FastifyRequest } from 'fastify';

/**
 * Who is calling: the operator (the bearer token: scripts, `pantheon` commands) or a human of
 * `humans:` signed in to the console (a session cookie). A session acts as that human: what it
 * does is attributed to them, and only an approver's session may decide approvals.
 */
type Principal = { kind: 'operator' } | ({ kind: 'human' } & ConsoleSession);

/** A console session as the server knows it (web/sessions.ts keeps them in the database). */
export interface ConsoleSession {
  /** The `humans:` id. */
  humanId: string;
  approver: boolean;
  /** What the console sends back in `X-CSRF-Token` on every request that changes something. */
  csrfToken: string;
  expiresAt: Date;
}

/** Looks a session cookie's value up: the live session, or undefined (unknown, ended, expired, or its human left `humans:`). */
export interface SessionVerifier {
  verify(sessionId: string): Promise<ConsoleSession | undefined>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook on every route that is not public. */
    principal: Principal | null;
  }
}

export const SESSION_COOKIE = 'pantheon_session';
export const CSRF_HEADER = 'x-csrf-token';

/** The value of one cookie in the request's Cookie header. */
export function cookieOf(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** The signed-in human, when the request came with a session. */
export function sessionOf(request: FastifyRequest): (ConsoleSession & { kind: 'human' }) | undefined {
  const p = request.principal;
  return p?.kind === 'human' ? p : undefined;
}
