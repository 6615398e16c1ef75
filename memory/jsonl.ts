import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { StoredInput } from './rows.js';
import { MEMORY_KINDS, type Memory, type MemoryScope } from './types.js';

/** team, or persona:/conversation:/repo: followed by a name; the same rule as the table's CHECK. */
export function isMemoryScope(s: string): s is MemoryScope {
  return s === 'team' || /^(persona|conversation|repo):.+/.test(s);
}

export function newMemoryId(): string {
  return `mem_${randomUUID().replace(/-/g, '')}`;
}

/** A memory as one JSONL line: everything but the embedding, which is recomputed on import. */
export function toJsonlLine(m: Memory & { dedupeKey?: string | null }): string {
  return JSON.stringify({
    id: m.id,
    scope: m.scope,
    kind: m.kind,
    content: m.content,
    metadata: m.metadata,
    source: m.source,
    author: m.author,
    dedupeKey: m.dedupeKey ?? null,
    createdAt: m.createdAt.toISOString(),
    accessedAt: m.accessedAt.toISOString(),
    accessCount: m.accessCount,
    expiresAt: m.expiresAt?.toISOString() ?? null,
    archivedAt: m.archivedAt?.toISOString() ?? null,
  });
}

const isoDate = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

const LineSchema = z.object({
  id: z.string().min(1).max(200).optional(),
  scope: z.string().refine(isMemoryScope, 'scope must be team, persona:<id>, conversation:<thread> or repo:<owner>/<repo>'),
  kind: z.enum(MEMORY_KINDS),
  content: z.string().trim().min(1, 'content is empty'),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  source: z.string().nullish(),
  author: z.string().nullish(),
  dedupeKey: z.string().nullish(),
  createdAt: isoDate.nullish(),
  accessedAt: isoDate.nullish(),
  accessCount: z.number().int().min(0).nullish(),
  expiresAt: isoDate.nullish(),
  archivedAt: isoDate.nullish(),
});

/** Parses one exported line; throws an Error whose message says what is wrong with it. */
export function parseJsonlLine(line: string): StoredInput {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    throw new Error(`not JSON (${(err as Error).message})`);
  }
  const parsed = LineSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || 'line'}: ${i.message}`).join(', '));
  }
  const l = parsed.data;
  return {
    id: l.id ?? newMemoryId(),
    scope: l.scope,
    kind: l.kind,
    content: l.content,
    metadata: l.metadata ?? {},
    source: l.source ?? null,
    author: l.author ?? null,
    dedupeKey: l.dedupeKey ?? null,
    createdAt: l.createdAt ?? null,
    accessedAt: l.accessedAt ?? null,
    accessCount: l.accessCount ?? 0,
    expiresAt: l.expiresAt ?? null,
    archivedAt: l.archivedAt ?? null,
  };
}
