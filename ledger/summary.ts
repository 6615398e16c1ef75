import { formatAge } from '../core/format-age.js';
import type { WorkItem } from './types.js';

/** Items listed before the rest are summarised as "… and N more". */
const MAX_LISTED = 15;

export { formatAge };

/** One line per item: `W-12 apollo — Add rate limiting (in_progress, from local:general, 5 min ago)`. */
function describeWorkItem(item: WorkItem, now: Date = new Date()): string {
  const where = item.originThread ? `, from ${item.originThread}` : '';
  const ref = item.externalRef ? ` [${item.externalRef}]` : '';
  return `${item.id} ${item.owner ?? 'unassigned'} — ${item.title}${ref} (${item.state}${where}, ${formatAge(item.updatedAt, now)})`;
}

/**
 * A compact text for chat ("what's in flight?"): a count line, then one line per item, or
 * "Nothing in flight." Items are shown in the order given (the ledger gives newest first).
 */
export function summarizeInFlight(items: readonly WorkItem[], now: Date = new Date()): string {
  if (items.length === 0) return 'Nothing in flight.';
  const head = `${items.length} ${items.length === 1 ? 'item' : 'items'} in flight:`;
  const lines = items.slice(0, MAX_LISTED).map((item) => `- ${describeWorkItem(item, now)}`);
  if (items.length > MAX_LISTED) lines.push(`… and ${items.length - MAX_LISTED} more`);
  return [head, ...lines].join('\n');
}
