/**
 * The team's shared memory: facts, decisions, preferences, summaries, code context and runbooks,
 * in Postgres with pgvector. Every memory has a scope that says who may see it:
 * - `team`: everyone;
 * - `persona:<id>`: that persona only (its private notes);
 * - `conversation:<thread id>`: that thread;
 * - `repo:<owner>/<repo>`: work on that repository.
 * A persona reads team, its own, conversation and repo memories; writes its own and team; never
 * reads or writes another persona's private memory.
 */
export type MemoryScope = 'team' | `persona:${string}` | `conversation:${string}` | `repo:${string}`;

export const MEMORY_KINDS = ['fact', 'decision', 'preference', 'summary', 'code_context', 'runbook'] as const;
export type MemoryKind = (typeof MEMORY_KINDS)[number];

export interface Memory {
  id: string;
  scope: MemoryScope;
  kind: MemoryKind;
  content: string;
  metadata: Record<string, unknown>;
  /** Where it came from: a thread, an issue, a PR (e.g. `local:general`, `gh:acme/api#12`). */
  source: string | null;
  /** Who wrote it: a persona id, a human id, or `system`. */
  author: string | null;
  createdAt: Date;
  accessedAt: Date;
  accessCount: number;
  expiresAt: Date | null;
  archivedAt: Date | null;
}

export interface NewMemory {
  scope: MemoryScope;
  kind: MemoryKind;
  content: string;
  metadata?: Record<string, unknown>;
  source?: string;
  author?: string;
  expiresAt?: Date;
  /** Makes a replayed write (a resumed run) store once. */
  dedupeKey?: string;
}

export interface RecallQuery {
  text: string;
  /** Scopes to search (the caller's visibility); empty means none. */
  scopes: MemoryScope[];
  kinds?: MemoryKind[];
  limit?: number;
  /** Include archived memories (default false). */
  includeArchived?: boolean;
}

export interface RecallHit {
  memory: Memory;
  /** Fused score (higher is better): vector and full-text ranks by reciprocal rank fusion, weighted by recency and use. */
  score: number;
}

/** Turns text into vectors. Its name and dimension are recorded with the store. */
export interface Embedder {
  /** e.g. `lexical-hash-v1`, `openai:text-embedding-3-small`. */
  readonly name: string;
  readonly dimension: number;
  embed(texts: string[]): Promise<number[][]>;
}

/** Thrown when the store's recorded embedder or dimension differs from the one in use: run `pantheon memory reembed`. */
export class EmbedderMismatchError extends Error {
  constructor(
    readonly stored: { name: string; dimension: number },
    readonly current: { name: string; dimension: number },
  ) {
    super(
      `memory was embedded with ${stored.name} (${stored.dimension} dimensions) but the configured embedder is ` +
        `${current.name} (${current.dimension} dimensions): run \`pantheon memory reembed\` before searching`,
    );
    this.name = 'EmbedderMismatchError';
  }
}
