import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { sendError } from '../core/http/errors.js';
import { cookieOf, SESSION_COOKIE, sessionOf } from '../core/http/principal.js';
import { escapeHtml, htmlPage } from '../core/http/sign-in-page.js';
import { sameOrigin } from '../core/http/bearer-auth.js';
import { type ConsoleSessions, type RedeemRefusal, UnknownHumanError } from './sessions.js';

export interface AuthRoutesOptions {
  sessions: ConsoleSessions;
  /** Where people reach the console: `console.publicUrl`, else the URL the server listens on. */
  baseUrl: () => string;
  /** `console.publicUrl` is https: the cookie is Secure whatever the request came over. */
  secureCookie: boolean;
}

const FORM = 'application/x-www-form-urlencoded';
const TOKEN = /^[A-Za-z0-9_-]{20,100}$/;

const REFUSALS: Record<RedeemRefusal, string> = {
  unknown: 'This login link is not valid.',
  used: 'This login link has already been used: each link signs in once.',
  expired: 'This login link has expired.',
  not_a_human: 'This login link is for someone who is no longer in humans: of pantheon.yaml.',
};

/** The URL of a login link. */
export function loginUrl(base: string, token: string): string {
  return `${base.replace(/\/+$/, '')}/auth/login?token=${token}`;
}

/**
 * Signing in and out (docs/api.md): `GET /auth/login?token=` (a page with a button: the GET uses
 * nothing up, as chat apps fetch links to preview them), `POST /auth/login` (uses the link up,
 * opens a session, sets the cookie), `POST /api/logout`, `GET /api/me`, and
 * `POST /api/login-links` for the operator's `pantheon login-link`.
 */
export function registerAuthRoutes(app: FastifyInstance, opts: AuthRoutesOptions): void {
  const { sessions } = opts;

  app.get<{ Querystring: { token?: string } }>('/auth/login', { config: { public: true } }, async (req, reply) => {
    const token = req.query.token ?? '';
    const peek = TOKEN.test(token) ? await sessions.peekLink(token) : { refused: 'unknown' as const };
    if ('refused' in peek) return refusedPage(reply, peek.refused);
    const page = htmlPage(
      'Sign in',
      `<h1>Sign in to the Pantheon console</h1>
<p>This link signs you in as <strong>${escapeHtml(peek.human)}</strong>, once.</p>
<form method="post" action="/auth/login"><input type="hidden" name="token" value="${escapeHtml(token)}">
<button type="submit">Sign in as ${escapeHtml(peek.human)}</button></form>`,
    );
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page);
  });

  app.register(async (scope) => {
    // The sign-in form's body; read only here, and small.
    scope.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
    scope.post<{ Body: { token?: string } }>('/auth/login', { config: { public: true } }, async (req, reply) => {
      const origin = req.headers.origin;
      if (origin !== undefined && !sameOrigin(origin, req.headers.host)) {
        return reply.code(403).type('text/html; charset=utf-8').send(htmlPage('Refused', '<h1>Refused</h1><p>Sign in from the link itself, not from another site.</p>'));
      }
      const token = typeof req.body?.token === 'string' ? req.body.token : '';
      const opened = TOKEN.test(token) ? await sessions.redeem(token) : { refused: 'unknown' as const };
      if ('refused' in opened) return refusedPage(reply, opened.refused);
      req.log.info({ human: opened.humanId }, 'console sign-in');
      const maxAge = Math.max(1, Math.floor((opened.expiresAt.getTime() - Date.now()) / 1000));
      return reply
        .header('set-cookie', sessionCookie(opened.id, maxAge, secure(req, opts.secureCookie)))
        .header('cache-control', 'no-store')
        .redirect('/', 303);
    });
  });

  app.post('/api/logout', async (req, reply) => {
    const cookie = cookieOf(req, SESSION_COOKIE);
    if (sessionOf(req) && cookie) await sessions.end(cookie);
    return reply
      .header('set-cookie', sessionCookie('', 0, secure(req, opts.secureCookie)))
      .code(204)
      .send();
  });

  app.get('/api/me', async (req) => {
    const session = sessionOf(req);
    if (!session) return { via: 'token', human: null, csrfToken: null, sessionExpiresAt: null };
    const human = sessions.human(session.humanId)!;
    const { id, approver, ...platforms } = human;
    return { via: 'session', human: { id, approver, platforms }, csrfToken: session.csrfToken, sessionExpiresAt: session.expiresAt.toISOString() };
  });

  app.post('/api/login-links', async (req, reply) => {
    if (sessionOf(req)) return sendError(req, reply, 403, 'forbidden', 'login links are made by the operator (the bearer token, `pantheon login-link`) or by /login in a chat');
    const parsed = z.object({ human: z.string().trim().min(1).max(128) }).safeParse(req.body ?? {});
    if (!parsed.success) return sendError(req, reply, 400, 'bad_request', 'human: the id of a human of humans: in pantheon.yaml is required');
    try {
      const link = await sessions.createLink(parsed.data.human, 'operator');
      return reply.code(201).send({ url: loginUrl(opts.baseUrl(), link.token), human: link.human, expiresAt: link.expiresAt.toISOString() });
    } catch (err) {
      if (err instanceof UnknownHumanError) return sendError(req, reply, 404, 'not_found', err.message);
      throw err;
    }
  });
}

function refusedPage(reply: FastifyReply, why: RedeemRefusal) {
  const page = htmlPage(
    'Sign-in refused',
    `<h1>Not signed in</h1><p>${escapeHtml(REFUSALS[why])}</p>
<p>Get a new one: type <code>/login</code> in any chat with the team, or ask an operator to run <code>pantheon login-link &lt;your id&gt;</code>.</p>`,
  );
  return reply.code(401).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page);
}

/**
 * HttpOnly (no script reads it), SameSite=Lax (never sent on another site's POST, fetch or
 * frame, but sent when a person follows a link to the console from a chat: docs/api.md says
 * why not Strict), Secure over https. Path=/ as the pages need it as much as /api.
 */
function sessionCookie(value: string, maxAgeSeconds: number, isSecure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${isSecure ? '; Secure' : ''}`;
}

function secure(req: FastifyRequest, configured: boolean): boolean {
  return configured || req.protocol === 'https';
}
