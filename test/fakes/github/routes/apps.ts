/**
 * GitHub Apps: an App authenticates as itself with an RS256 JWT signed by its private key, and
 * trades it for a short-lived installation token (`POST /app/installations/{id}/access_tokens`).
 * Installation tokens then act as the App's bot user, `<slug>[bot]`, for REST and git.
 */
import { randomBytes, verify, type KeyObject } from 'node:crypto';
import { DOCS, HttpError, intParam, notFound, type RequestContext, type Router } from '../http.js';
import type { GitHubStore } from '../store.js';
import type { User } from '../types.js';

/** An App the fake knows: only its public key, as GitHub keeps it. */
export interface FakeApp {
  appId: string;
  slug: string;
  publicKey: string | KeyObject;
  installationId: number;
  bot: User;
  /** Installation tokens handed out, newest last (tests assert on them). */
  tokens: string[];
}

function jwtRefused(message = 'A JSON web token could not be decoded'): HttpError {
  return new HttpError(401, { message, documentation_url: DOCS, status: '401' });
}

/** The App whose key signed the request's JWT (checked as GitHub does: RS256, iss, iat, exp). */
function appOf(apps: Map<number, FakeApp>, ctx: RequestContext, installationId: number): FakeApp {
  const app = apps.get(installationId);
  if (!app) throw notFound();
  const m = /^bearer\s+([\w-]+)\.([\w-]+)\.([\w-]+)$/i.exec(String(ctx.headers.authorization ?? ''));
  if (!m) throw jwtRefused();
  const [, header, payload, signature] = m as unknown as [string, string, string, string];
  let claims: { iss?: unknown; iat?: unknown; exp?: unknown };
  try {
    if (JSON.parse(Buffer.from(header, 'base64url').toString()).alg !== 'RS256') throw new Error('alg');
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  } catch {
    throw jwtRefused();
  }
  if (!verify('sha256', Buffer.from(`${header}.${payload}`), app.publicKey, Buffer.from(signature, 'base64url'))) throw jwtRefused();
  if (String(claims.iss) !== app.appId) throw jwtRefused(`Integration ${String(claims.iss)} not found`);
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.iat !== 'number' || claims.iat > now + 60) throw jwtRefused("'Issued at' claim ('iat') must be an Integer representing a time in the past.");
  if (typeof claims.exp !== 'number' || claims.exp <= now || claims.exp - claims.iat > 660) throw jwtRefused("'Expiration time' claim ('exp') is too far in the future");
  return app;
}

export function registerAppRoutes(router: Router, store: GitHubStore, apps: Map<number, FakeApp>): void {
  router.add('POST', '/app/installations/:installation_id/access_tokens', (ctx) => {
    const app = appOf(apps, ctx, intParam(ctx, 'installation_id'));
    const token = `ghs_${randomBytes(18).toString('base64url')}`;
    store.byToken.set(token, app.bot);
    app.tokens.push(token);
    return {
      status: 201,
      json: {
        token,
        expires_at: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        permissions: { actions: 'read', checks: 'read', contents: 'write', issues: 'write', metadata: 'read', pull_requests: 'write' },
        repository_selection: 'all',
      },
    };
  });
}
