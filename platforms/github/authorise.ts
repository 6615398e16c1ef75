import type pg from 'pg';
import type { Logger } from '../../core/log.js';
import type { GitHubClient } from '../../github/client.js';
import type { GitHubRepoRef } from '../../github/activity.js';

/** Repository permissions that may wake a persona. */
const WRITERS = new Set(['admin', 'maintain', 'write']);

export type Verdict = { allowed: true; why: 'human' | 'persona' | 'collaborator' | 'github' } | { allowed: false; permission: string };

/**
 * Who may wake a persona from GitHub: the humans of `humans:` (by GitHub login), the other
 * personas, and collaborators with write, maintain or admin permission on the repository.
 * The permission is asked with the target persona's own token and trusted for
 * `permissionCacheSeconds` (kept in Postgres, so every process shares the answer).
 */
export class GitHubAuthoriser {
  private readonly humans: Set<string>;

  constructor(
    private readonly deps: {
      pool: pg.Pool;
      logger: Logger;
      humanLogins: readonly string[];
      isPersonaLogin: (login: string) => boolean;
      cacheSeconds: number;
    },
  ) {
    this.humans = new Set(deps.humanLogins.map((l) => l.toLowerCase()));
  }

  async check(repo: GitHubRepoRef, login: string, client: GitHubClient | undefined): Promise<Verdict> {
    if (this.humans.has(login.toLowerCase())) return { allowed: true, why: 'human' };
    if (this.deps.isPersonaLogin(login)) return { allowed: true, why: 'persona' };
    const permission = await this.permission(repo, login, client);
    return WRITERS.has(permission) ? { allowed: true, why: 'collaborator' } : { allowed: false, permission };
  }

  /** `admin` | `maintain` | `write` | `triage` | `read` | `none`. Unknown (no client) counts as none. */
  async permission(repo: GitHubRepoRef, login: string, client: GitHubClient | undefined): Promise<string> {
    const key = `${repo.owner}/${repo.name}`.toLowerCase();
    const cached = await this.deps.pool.query<{ permission: string }>(
      `SELECT permission FROM github_permissions
       WHERE repo = $1 AND login = $2 AND checked_at > now() - $3 * interval '1 second'`,
      [key, login.toLowerCase(), this.deps.cacheSeconds],
    );
    if (cached.rows[0]) return cached.rows[0].permission;
    if (!client) {
      this.deps.logger.warn({ repo: key, login }, 'no persona token to check a GitHub permission with; treating the sender as without access');
      return 'none';
    }
    let permission = 'none';
    try {
      const { data } = await client.request('GET /repos/{owner}/{repo}/collaborators/{username}/permission', { owner: repo.owner, repo: repo.name, username: login });
      // role_name tells maintain/triage apart; permission folds them into write/read.
      const role = (data as { role_name?: string }).role_name;
      permission = role && ['admin', 'maintain', 'write', 'triage', 'read'].includes(role) ? role : data.permission;
    } catch (err) {
      // 404: not a collaborator (or the user does not exist). Anything else is worth retrying.
      if ((err as { status?: number }).status !== 404) throw err;
    }
    await this.deps.pool.query(
      `INSERT INTO github_permissions (repo, login, permission, checked_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (repo, login) DO UPDATE SET permission = EXCLUDED.permission, checked_at = now()`,
      [key, login.toLowerCase(), permission],
    );
    return permission;
  }
}

/** The refusal a persona posts, once per person and thread, to someone who may not wake it. */
export function refusalText(login: string): string {
  return `Hi @${login}, thanks for reaching out. I only take requests from this repository's maintainers and my team, so I won't act on this one. A maintainer can ask me instead.`;
}
