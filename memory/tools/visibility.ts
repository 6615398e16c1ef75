import type { MemoryScope } from '../types.js';
import type { MemoryStore } from '../store.js';

/**
 * Who sees which memory, from a persona's seat in one thread. A persona reads and writes:
 * `team`, its own `persona:<self>`, the `conversation:<thread>` it is in, and every
 * `repo:<owner>/<repo>` (repository knowledge is the team's). It never sees another
 * persona's private memory, nor another conversation's. Reading and writing are the same
 * set, so `forget` can only reach what `recall` can show.
 */
export interface Seat {
  persona: string;
  threadId: string;
}

/** What the model may pass as a scope: `team`, `private`, `conversation` or `repo:<owner>/<repo>`. */
export const SCOPE_HELP = "'team' (everyone), 'private' (only you), 'conversation' (this conversation) or 'repo:<owner>/<repo>'";

const REPO_SCOPE = /^repo:[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** The scope a write lands in, or a refusal the model can act on. */
export function writeScope(seat: Seat, given: string): MemoryScope | { refused: string } {
  const scope = given.trim();
  if (scope === 'team') return 'team';
  if (scope === 'private' || scope === `persona:${seat.persona}`) return `persona:${seat.persona}`;
  if (scope === 'conversation' || scope === `conversation:${seat.threadId}`) return `conversation:${seat.threadId}`;
  if (scope.startsWith('persona:')) {
    return { refused: `Not remembered: ${scope} is another persona's private memory, and only they can write it. Use 'team' to tell everyone, or 'private' for your own notes.` };
  }
  if (scope.startsWith('conversation:')) {
    return { refused: `Not remembered: you can only write to this conversation's memory ('conversation'), not to ${scope}.` };
  }
  if (scope.startsWith('repo:')) {
    if (REPO_SCOPE.test(scope)) return scope as MemoryScope;
    return { refused: `Not remembered: "${scope}" is not a repository scope; write it as repo:<owner>/<repo>, e.g. repo:acme/api.` };
  }
  return { refused: `Not remembered: unknown scope "${given}"; use ${SCOPE_HELP}.` };
}

/** Whether a memory in `scope` is visible (and writable) from this seat. */
export function canSee(seat: Seat, scope: string): boolean {
  return scope === 'team' || scope === `persona:${seat.persona}` || scope === `conversation:${seat.threadId}` || scope.startsWith('repo:');
}

/** How long the list of repository scopes is reused before asking the store again. */
const REPO_SCOPES_TTL_MS = 30_000;
const repoScopeCache = new WeakMap<object, { at: number; scopes: Promise<MemoryScope[]> }>();

/**
 * The repository scopes that hold memories, from the store's counts. Cached briefly per store:
 * a search should not count the whole table. `fresh` skips the cache (after a repo write).
 */
function knownRepoScopes(store: Pick<MemoryStore, 'status'>, opts: { fresh?: boolean } = {}): Promise<MemoryScope[]> {
  const cached = repoScopeCache.get(store);
  if (cached && !opts.fresh && Date.now() - cached.at < REPO_SCOPES_TTL_MS) return cached.scopes;
  const scopes = store.status().then(
    (s) =>
      Object.keys(s.counts.byScope ?? {})
        .filter((k) => k.startsWith('repo:'))
        .sort() as MemoryScope[],
  );
  // A failed count is not remembered: the next search asks again.
  scopes.catch(() => repoScopeCache.delete(store));
  repoScopeCache.set(store, { at: Date.now(), scopes });
  return scopes;
}

/** Forget the cached repository scopes of a store (a new repo scope was just written). */
export function invalidateRepoScopes(store: object): void {
  repoScopeCache.delete(store);
}

/** Every scope this seat reads: team, its own, this conversation, and the repositories with memories. */
export async function readableScopes(store: Pick<MemoryStore, 'status'>, seat: Seat): Promise<MemoryScope[]> {
  return ['team', `persona:${seat.persona}`, `conversation:${seat.threadId}`, ...(await knownRepoScopes(store))];
}
