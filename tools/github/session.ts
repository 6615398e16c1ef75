import type { GitHubAppAuth, GitHubClient } from '../../github/client.js';
import { githubClients, type GitHubClients } from '../../github/clients.js';
import type { Logger } from '../../core/log.js';
import { registerSecret } from '../../core/log.js';
import type { WorkLedger } from '../../ledger/index.js';
import type { ToolContext } from '../types.js';
import type { TeamDirectory } from './team.js';

export { githubClients, type GitHubClients };

/** What the GitHub and workspace tool groups are built from (see module.ts). */
export interface GitHubToolDeps {
  /** `github.apiUrl`. */
  apiUrl: string;
  /** `github.throttle`: off only against a fake. */
  throttle: boolean;
  /** `github.app`: personas without a token of their own act through this App installation. */
  app?: GitHubAppAuth;
  team: TeamDirectory;
  /** Work items: issues created from chat are recorded, PRs move them along. */
  ledger?: Pick<WorkLedger, 'ensure' | 'getByExternalRef' | 'transition' | 'addReviewer' | 'assign' | 'recordEvent'>;
  logger?: Logger;
  /** Absolute data directory: workspaces live under `<dataDir>/workspaces`. */
  dataDir: string;
  /** One octokit per token, shared by both groups; made by `githubClients()` when absent. */
  clients?: GitHubClients;
}

/** Thrown when a persona without a GitHub token uses a GitHub tool. */
class NoGitHubTokenError extends Error {
  constructor(persona: string) {
    super(`${persona} has no GitHub token: set github.token in ${persona}'s persona file (e.g. token: "\${${persona.toUpperCase().replace(/-/g, '_')}_GITHUB_TOKEN}"), or github.app in pantheon.yaml`);
    this.name = 'NoGitHubTokenError';
  }
}

/**
 * One persona acting on GitHub: its own client (from its own token, never another's) and its
 * login. A persona without a token acts through the GitHub App installation when `github.app`
 * is configured. Built per tool group instance; the client is made on first use.
 */
export class GitHubSession {
  private cachedLogin?: string;
  private readonly clients: GitHubClients;

  constructor(
    readonly ctx: ToolContext,
    readonly deps: GitHubToolDeps,
  ) {
    this.clients = deps.clients ?? githubClients(deps);
  }

  get persona(): ToolContext['persona'] {
    return this.ctx.persona;
  }

  get client(): GitHubClient {
    const token = this.ctx.credentials.githubToken;
    if (token) return this.clients.get(token, this.ctx.persona.id);
    const app = this.clients.app();
    if (!app) throw new NoGitHubTokenError(this.ctx.persona.id);
    return app;
  }

  /**
   * The token, for git's credential helper only (never the environment, never a URL): the
   * persona's own, else a (cached, short-lived) installation token of the App.
   */
  async token(): Promise<string> {
    const own = this.ctx.credentials.githubToken;
    if (own) return own;
    const app = this.clients.app();
    if (!app) throw new NoGitHubTokenError(this.ctx.persona.id);
    const { token } = (await app.auth({ type: 'installation' })) as { token: string };
    registerSecret(token);
    return token;
  }

  /** The persona's GitHub login: from its file, else asked of GitHub once. */
  async login(): Promise<string> {
    if (this.cachedLogin) return this.cachedLogin;
    const known = this.deps.team.loginOf(this.ctx.persona.id);
    this.cachedLogin = known ?? (await this.client.rest.users.getAuthenticated()).data.login;
    return this.cachedLogin;
  }
}
