import type { Persona } from '../../core/config/persona-schema.js';

/** What the GitHub tools need to know about a persona. */
export type TeamMember = Pick<Persona, 'id' | 'name' | 'role'> & { github?: { login: string } };

/** A human with a GitHub login (`humans:` in pantheon.yaml). */
export interface TeamHuman {
  id: string;
  github?: string;
}

/**
 * Who is who on GitHub: persona ids and human ids to GitHub logins and back. Tools accept
 * the names people use in chat (`apollo`, `@Apollo`, `jeff`) and act on logins.
 */
export class TeamDirectory {
  private readonly members: TeamMember[];
  private readonly humans: TeamHuman[];

  constructor(members: readonly TeamMember[], humans: readonly TeamHuman[] = []) {
    this.members = [...members];
    this.humans = [...humans];
  }

  member(id: string): TeamMember | undefined {
    return this.members.find((m) => m.id === id);
  }

  /** The persona's GitHub login, if its file names one. */
  loginOf(personaId: string): string | undefined {
    return this.member(personaId)?.github?.login;
  }

  /** The persona behind a GitHub login. */
  personaByLogin(login: string): TeamMember | undefined {
    const l = login.toLowerCase();
    return this.members.find((m) => m.github?.login.toLowerCase() === l);
  }

  /**
   * A GitHub login for a name: a persona (id, display name or login), a human's id, or else
   * the name itself as a GitHub login. `persona` is set when the name is a persona.
   */
  resolve(name: string): { login: string; persona?: TeamMember } {
    const n = name.trim().replace(/^@/, '');
    const lower = n.toLowerCase();
    const persona = this.members.find((m) => m.id === lower || m.name.toLowerCase() === lower || m.github?.login.toLowerCase() === lower);
    if (persona) return { login: persona.github?.login ?? persona.id, persona };
    const human = this.humans.find((h) => h.id.toLowerCase() === lower);
    return { login: human?.github ?? n };
  }

  /** Logins of the reviewer personas, except `exceptPersona` (nobody reviews their own PR). */
  reviewerLogins(exceptPersona?: string): string[] {
    return this.members.filter((m) => m.role === 'reviewer' && m.id !== exceptPersona && m.github?.login).map((m) => m.github!.login);
  }

  /** `login (persona id)` when the login is a persona's, for messages. */
  describeLogin(login: string | null | undefined): string {
    if (!login) return 'someone';
    const p = this.personaByLogin(login);
    return p ? `${login} (${p.id})` : login;
  }
}
