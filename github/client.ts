import { Octokit } from 'octokit';
import { createAppAuth } from '@octokit/auth-app';
import type { Logger } from '../core/log.js';
import { registerSecret } from '../core/log.js';

export type GitHubClient = InstanceType<typeof Octokit>;

/** A GitHub App installation (`github.app`): the App's id and private key (PEM), and where it is installed. */
export type GitHubAppAuth = { appId: number | string; privateKey: string; installationId: number };

/** How a client authenticates: a persona's own token (a machine user's PAT), or a GitHub App installation. */
type GitHubAuth = { token: string } | { app: GitHubAppAuth };

export interface GitHubClientOptions {
  auth: GitHubAuth;
  /** `github.apiUrl`: https://api.github.com, a GitHub Enterprise `/api/v3` root, or a fake. */
  apiUrl: string;
  /**
   * Production clients throttle (GitHub's recommended pacing of writes) and retry 5xx and rate
   * limits; tests turn both off, since throttling serialises writes 1-3 s apart.
   */
  throttle?: boolean;
  logger?: Logger;
  /** Used in the User-Agent, e.g. the persona id. */
  userAgent?: string;
}

/**
 * One authenticated octokit per identity. A persona's client is built from its own token only,
 * so every call it makes carries that persona's identity and no other.
 */
export function createGitHubClient(opts: GitHubClientOptions): GitHubClient {
  const throttle = opts.throttle ?? true;
  const log = opts.logger;
  const base = {
    baseUrl: opts.apiUrl.replace(/\/+$/, ''),
    userAgent: `pantheon${opts.userAgent ? `/${opts.userAgent}` : ''}`,
    log: {
      debug: () => {},
      info: () => {},
      warn: (msg: string) => log?.warn({ github: true }, msg),
      error: (msg: string) => log?.error({ github: true }, msg),
    },
    throttle: throttle
      ? {
          onRateLimit: (retryAfter: number, options: { method: string; url: string }, _o: unknown, retryCount: number) => {
            log?.warn({ retryAfter, method: options.method, url: options.url }, 'GitHub rate limit hit');
            return retryCount < 2;
          },
          onSecondaryRateLimit: (retryAfter: number, options: { method: string; url: string }, _o: unknown, retryCount: number) => {
            log?.warn({ retryAfter, method: options.method, url: options.url }, 'GitHub secondary rate limit hit');
            return retryCount < 1;
          },
        }
      : { enabled: false },
    retry: { enabled: throttle },
  };
  if ('token' in opts.auth) {
    registerSecret(opts.auth.token);
    return new Octokit({ ...base, auth: opts.auth.token });
  }
  registerSecret(opts.auth.app.privateKey);
  return new Octokit({ ...base, authStrategy: createAppAuth, auth: { ...opts.auth.app } });
}
