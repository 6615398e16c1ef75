import type { Logger } from '../core/log.js';
import type { GithubConfig } from '../core/config/schema.js';
import type { Persona } from '../core/config/persona-schema.js';
import type { GitHubClient } from './client.js';
import { githubClientsFor, type GitHubClients } from './clients.js';

/**
 * Who the team is on GitHub: each persona's login, and one octokit per persona built from that
 * persona's own token. A persona's words and actions on GitHub always go out through its own
 * client; `clientFor` never falls back to someone else's token. With `github.app`, a persona
 * without a token speaks through the App installation (one shared client) instead. The clients
 * come from `clients.ts`, shared with the GitHub tools of the same configuration.
 */
export class GitHubIdentities {
  private readonly byLogin = new Map<string, Persona>();
  private readonly clients: GitHubClients;

  constructor(
    private readonly personas: readonly Persona[],
    opts: { config: Pick<GithubConfig, 'apiUrl' | 'throttle' | 'app'>; logger?: Logger; clients?: GitHubClients },
  ) {
    for (const p of personas) if (p.github?.login) this.byLogin.set(p.github.login.toLowerCase(), p);
    this.clients = opts.clients ?? githubClientsFor(opts.config, opts.logger);
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
    const persona = this.personas.find((p) => p.id === personaId);
    if (!persona) return undefined;
    const token = persona.github?.token;
    return token ? this.clients.get(token, persona.id) : this.clients.app();
  }

  /**
   * A client for reading (a PR's author, a review's comments) where whose identity reads does
   * not matter: the preferred persona's, else the first persona with a token, else the App's.
   */
  readerFor(preferred?: string): GitHubClient | undefined {
    return this.clientFor(preferred) ?? this.clientFor(this.withToken()[0]?.id) ?? this.clients.app();
  }
}
