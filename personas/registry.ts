import type { Persona } from '../core/config/persona-schema.js';

/**
 * Chat-wide mentions that address everyone, not a person; never reported as unknown.
 * (Mattermost and Slack use these; Discord uses @everyone and @here.)
 */
const BROADCAST = new Set(['here', 'channel', 'all', 'everyone']);

/**
 * `@name` tokens in a message. A mention starts at the beginning of the text or after a
 * character that cannot be part of an email, URL path or word (`alice@apollo.dev`,
 * `https://x.com/@apollo` and `foo@apollo` are not mentions), and ends where the name
 * does (`@apollo,` and `@apollo's` mention apollo; `@apollox` does not).
 * Slack's raw `<@U0123>` form is left to the Slack adapter and skipped here.
 */
const MENTION = /(?<![\w.+\-@/<])@([A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)(?![A-Za-z0-9_@]|-[A-Za-z0-9_])/g;

/** Lowercased `@tokens` of `text`, in order of first appearance, without duplicates. */
function mentionTokens(text: string): string[] {
  const seen = new Set<string>();
  for (const match of text.matchAll(MENTION)) seen.add(match[1]!.toLowerCase());
  return [...seen];
}

/**
 * The team, by id. Also resolves the names people use in chat: `@apollo`, `@Apollo`
 * (the display name), `@apollo-bot` (its GitHub login).
 */
export class PersonaRegistry {
  private readonly byId = new Map<string, Persona>();
  private readonly aliases = new Map<string, string>();

  constructor(personas: Iterable<Persona>) {
    for (const persona of personas) {
      if (this.byId.has(persona.id)) throw new Error(`duplicate persona id "${persona.id}"`);
      this.byId.set(persona.id, persona);
    }
    // Ids win over other personas' names and logins; register them first.
    for (const persona of this.byId.values()) this.aliases.set(persona.id, persona.id);
    for (const persona of this.byId.values()) {
      const name = persona.name.toLowerCase();
      for (const alias of [name, name.replace(/\s+/g, '-'), name.replace(/\s+/g, ''), persona.github?.login.toLowerCase()]) {
        if (alias && !this.aliases.has(alias)) this.aliases.set(alias, persona.id);
      }
    }
  }

  get(id: string): Persona | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  list(): Persona[] {
    return [...this.byId.values()];
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  /** The persona a name refers to (id, display name or GitHub login, any case). */
  resolve(name: string): Persona | undefined {
    const id = this.aliases.get(name.replace(/^@/, '').toLowerCase());
    return id ? this.byId.get(id) : undefined;
  }

  /** Ids of the personas @mentioned in `text`, in order of first appearance. */
  findMentions(text: string): string[] {
    const ids: string[] = [];
    for (const token of mentionTokens(text)) {
      const id = this.aliases.get(token);
      if (id && !ids.includes(id)) ids.push(id);
    }
    return ids;
  }

  /**
   * @mentions that are neither a persona nor a known human (nor @here/@channel/...),
   * lowercased, so the orchestrator can answer "no persona named @zeus; the team is: ...".
   */
  unknownMentions(text: string, knownHumans: string[]): string[] {
    const humans = new Set(knownHumans.map((h) => h.replace(/^@/, '').toLowerCase()));
    return mentionTokens(text).filter((t) => !this.aliases.has(t) && !humans.has(t) && !BROADCAST.has(t));
  }
}
