import { formatAge } from '../../core/format-age.js';
import type { Memory, RecallHit } from '../types.js';

/** How long ago a memory was written or used. */
export const memoryAge = formatAge;

/** Content on one line, cut to `max` characters. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1))}…`;
}

/** Where a memory came from and how old it is: `from local:general, by athena, 2 d ago`. */
export function provenance(m: Memory, now: Date = new Date()): string {
  const parts: string[] = [];
  if (m.source) parts.push(`from ${m.source}`);
  if (m.author) parts.push(`by ${m.author}`);
  parts.push(memoryAge(m.createdAt, now));
  return parts.join(', ');
}

/** A scope as its reader knows it: `persona:apollo` is "private" to apollo. */
export function scopeLabel(scope: string, viewer?: string): string {
  if (viewer && scope === `persona:${viewer}`) return 'private';
  if (scope.startsWith('conversation:')) return 'this conversation';
  return scope;
}

/**
 * The answer of the `recall` tool: a numbered list, one memory per line, with the id a later
 * `forget` needs, its kind and scope, and where it came from.
 */
export function formatRecall(hits: readonly RecallHit[], opts: { viewer: string; maxChars?: number; now?: Date }): string {
  if (hits.length === 0) return 'No memories match.';
  const now = opts.now ?? new Date();
  const lines = hits.map((h, i) => {
    const m = h.memory;
    return `${i + 1}. [${m.id}] ${m.kind}, ${scopeLabel(m.scope, opts.viewer)}, ${provenance(m, now)}: ${oneLine(m.content, opts.maxChars ?? 500)}`;
  });
  return `${hits.length} ${hits.length === 1 ? 'memory' : 'memories'}:\n${lines.join('\n')}`;
}
