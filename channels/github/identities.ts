import type { Logger } from '../../core/log.js';
import type { GithubConfig } from '../../core/config/schema.js';
import type { Persona } from '../../personas/schema.js';
import { createGitHubClient, type GitHubClient } from './client.js';

/**
 * Who the team is on GitHub: each persona's login, and one octokit per persona built from that
 * persona's own token. A persona's words and actions on GitHub always go out through its own
 * client; `clientFor` never falls back to someone else's token. With `github.app`, a persona
 * without a token speaks through the App installation (one shared client) instead.
 */
export class GitHubIdentities {
  private readonly byLogin = new Map<string, Persona>();
  private readonly clients = new Map<string, GitHubClient>();
  private appClient?: GitHubClient;

  constructor(
    private readonly personas: readonly Persona[],
    private readonly opts: { config: Pick<GithubConfig, 'apiUrl' | 'throttle' | 'app'>; logger?: Logger },
  ) {
    for (const p of personas) if (p.github?.login) this.byLogin.set(p.github.login.toLowerCase(), p);
  }

  /** The persona whose GitHub login this is (case-insensitive, as GitHub compares logins). */
  personaByLogin(login: string | undefined | null): Persona | undefined {
    return login ? this.byLogin.get(login.toLowerCase()) : undefined;
  }

  personaIdByLogin(login: string | undefined | null): string | undefined {
    return this.personaByLogin(login)?.id;
  }

  loginOf(personaId: string): string | undefined {
    return this.personas.find((p) => p.id === personaId)?.github?.login;
  }

  /** Personas with a GitHub login (whether or not they have a token). */
  withLogin(): Persona[] {
    return [...this.byLogin.values()];
  }

  /** Personas with a login and their own token (polling reads each one's own notifications). */
  withToken(): Persona[] {
    return this.withLogin().filter((p) => !!p.github?.token);
  }

  /**
   * The persona's own client; without a token of its own, the App installation's client when
   * `github.app` is set; else undefined.
   */
  clientFor(personaId: string | undefined): GitHubClient | undefined {
    if (!personaId) return undefined;
    const cached = this.clients.get(personaId);
    if (cached) return cached;
    const persona = this.personas.find((p) => p.id === personaId);
    if (!persona) return undefined;
    const token = persona.github?.token;
    if (!token) return this.app();
    const client = createGitHubClient({
      auth: { token },
      apiUrl: this.opts.config.apiUrl,
      throttle: this.opts.config.throttle,
      logger: this.opts.logger,
      userAgent: persona.id,
    });
    this.clients.set(personaId, client);
    return client;
  }

  /**
   * A client for reading (a PR's author, a review's comments) where whose identity reads does
   * not matter: the preferred persona's, else the first persona with a token, else the App's.
   */
  readerFor(preferred?: string): GitHubClient | undefined {
    return this.clientFor(preferred) ?? this.clientFor(this.withToken()[0]?.id) ?? this.app();
  }

  /** The App installation's client (`github.app`), made once. */
  private app(): GitHubClient | undefined {
    const app = this.opts.config.app;
    if (app && !this.appClient) {
      this.appClient = createGitHubClient({ auth: { app }, apiUrl: this.opts.config.apiUrl, throttle: this.opts.config.throttle, logger: this.opts.logger, userAgent: 'app' });
    }
    return this.appClient;
  }
}
