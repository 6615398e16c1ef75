import type { GithubConfig } from '../core/config/schema.js';
import type { Logger } from '../core/log.js';
import { createGitHubClient, type GitHubAppAuth, type GitHubClient } from './client.js';

/**
 * Octokit clients by token, so each persona's calls carry its own identity, and the App
 * installation's one client: each built once. The GitHub platform (through `GitHubIdentities`)
 * and the GitHub tools (through `GitHubSession`) both get their clients here.
 */
export interface GitHubClients {
  /** The client of this token (a persona's own); `persona` names it in the User-Agent. */
  get(token: string, persona: string): GitHubClient;
  /** The GitHub App installation's client (one, shared), or undefined without `github.app`. */
  app(): GitHubClient | undefined;
}

export interface GitHubClientsOptions {
  /** `github.apiUrl`. */
  apiUrl: string;
  /** `github.throttle`: on in production, off against a fake (see client.ts). */
  throttle: boolean;
  /** `github.app`: the installation personas without a token of their own act through. */
  app?: GitHubAppAuth;
  logger?: Logger;
}

export function githubClients(opts: GitHubClientsOptions): GitHubClients {
  const byToken = new Map<string, GitHubClient>();
  let app: GitHubClient | undefined;
  return {
    get(token, persona) {
      let client = byToken.get(token);
      if (!client) {
        client = createGitHubClient({ auth: { token }, apiUrl: opts.apiUrl, throttle: opts.throttle, logger: opts.logger, userAgent: persona });
        byToken.set(token, client);
      }
      return client;
    },
    app() {
      if (opts.app && !app) app = createGitHubClient({ auth: { app: opts.app }, apiUrl: opts.apiUrl, throttle: opts.throttle, logger: opts.logger, userAgent: 'app' });
      return app;
    },
  };
}

const byConfig = new WeakMap<object, GitHubClients>();

/**
 * The clients of one loaded `github:` section: the GitHub platform and the GitHub tools of one
 * process share them, so a token has one octokit (and one throttle, as GitHub paces per token).
 */
export function githubClientsFor(config: Pick<GithubConfig, 'apiUrl' | 'throttle' | 'app'>, logger?: Logger): GitHubClients {
  let clients = byConfig.get(config);
  if (!clients) {
    clients = githubClients({ apiUrl: config.apiUrl, throttle: config.throttle, app: config.app, logger });
    byConfig.set(config, clients);
  }
  return clients;
}
