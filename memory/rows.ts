import type { Memory, MemoryKind, MemoryScope } from './types.js';

/** The columns of `memories` every read selects (never the embedding: it is large and nobody outside needs it). */
export const MEMORY_COLUMNS = 'id, scope, kind, content, metadata, source, author, dedupe_key, created_at, expires_at, archived_at';

/** A memory with its use (memory_access): select `${MEMORY_SELECT} FROM ${MEMORY_FROM}`, memories as `m`. */
export const MEMORY_SELECT =
  MEMORY_COLUMNS.split(', ')
    .map((c) => `m.${c}`)
    .join(', ') + ', coalesce(a.accessed_at, m.created_at) AS accessed_at, coalesce(a.access_count, 0) AS access_count';
export const MEMORY_FROM = 'memories m LEFT JOIN memory_access a ON a.memory_id = m.id';

export interface MemoryRow {
  id: string;
  scope: string;
  kind: string;
  content: string;
  metadata: Record<string, unknown> | null;
  source: string | null;
  author: string | null;
  dedupe_key: string | null;
  created_at: Date;
  accessed_at: Date;
  access_count: number;
  expires_at: Date | null;
  archived_at: Date | null;
}

export function toMemory(r: MemoryRow): Memory {
  return {
    id: r.id,
    scope: r.scope as MemoryScope,
    kind: r.kind as MemoryKind,
    content: r.content,
    metadata: r.metadata ?? {},
    source: r.source,
    author: r.author,
    createdAt: r.created_at,
    accessedAt: r.accessed_at,
    accessCount: Number(r.access_count),
    expiresAt: r.expires_at,
    archivedAt: r.archived_at,
  };
}

/**
 * pgvector's text form `[x,y,...]`. Seven significant digits are float4's precision (what
 * pgvector stores), and keep the literal short: parsing it is a real share of insert time.
 */
export function vectorLiteral(v: number[]): string {
  let s = '[';
  for (let i = 0; i < v.length; i++) {
    if (i > 0) s += ',';
    const x = v[i];
    if (!Number.isFinite(x)) throw new Error(`embedding has a non-finite value at position ${i}`);
    s += x === 0 ? '0' : x.toPrecision(7);
  }
  return s + ']';
}

/** A memory as insertBatch takes it: NewMemory plus what an import carries over. */
export interface StoredInput {
  id: string;
  scope: string;
  kind: string;
  content: string;
  metadata: Record<string, unknown>;
  source: string | null;
  author: string | null;
  dedupeKey: string | null;
  createdAt: Date | null;
  accessedAt: Date | null;
  accessCount: number;
  expiresAt: Date | null;
  archivedAt: Date | null;
}
