import { WorkLedger } from '../ledger/ledger.js';
import { CommandError } from './command-error.js';
import { formatAge } from '../ledger/summary.js';
import type { WorkItem, WorkItemEvent } from '../ledger/types.js';
import { usageReport, type UsageLine, type UsageReport } from '../ledger/usage.js';
import { findServer, formatTable, formatTime, getJson, HttpAnswerError, truncate, withDatabase, type ReadSourceOptions } from './audit.js';

export interface WorkCommandOptions extends ReadSourceOptions {
  /** Show one item and its history instead of a list (`W-12`, `#12` or `12`). */
  id?: string;
  owner?: string;
  thread?: string;
  /** Include done and merged items. */
  all?: boolean;
  json?: boolean;
  /** Model usage of this many days (today counts as one; default 1). */
  days?: string;
}

/**
 * `pantheon work`: the work ledger. Lists what is in flight (with `--all`, everything),
 * most recently active first, or with an id shows one item and its history. Reads over the
 * HTTP API when a server answers, otherwise opens the database directly (see `pantheon audit`).
 */
export async function workCommand(opts: WorkCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const server = await findServer(opts);
  if (opts.id) return showItem(opts, opts.id, server, out);

  let items: WorkItem[];
  if (server) {
    const query = new URLSearchParams();
    if (opts.owner) query.set('owner', opts.owner);
    if (opts.thread) query.set('thread', opts.thread);
    if (opts.all) query.set('all', '1');
    items = ((await getJson(server, `/api/work?${query}`)) as { items: WorkItem[] }).items;
  } else {
    items = await withDatabase(opts, (pool) => new WorkLedger(pool).list({ owner: opts.owner, thread: opts.thread, includeFinished: !!opts.all }));
  }

  if (opts.json) {
    for (const item of items) out.write(JSON.stringify(item) + '\n');
    return;
  }
  const days = opts.days === undefined ? 1 : Number(opts.days);
  if (!Number.isInteger(days) || days < 1 || days > 366) throw new CommandError(`--days: expected a whole number of days from 1 to 366, got "${opts.days}"`);
  const usage = server ? ((await getJson(server, `/api/usage?days=${days}`)) as UsageReport) : await withDatabase(opts, (pool) => usageReport(pool, { days }));
  if (items.length === 0) out.write(opts.all ? 'No work items.\n' : 'Nothing in flight.\n');
  else {
    const now = new Date();
    out.write(
      formatTable(
        ['ID', 'STATE', 'OWNER', 'KIND', 'UPDATED', 'THREAD', 'TITLE'],
        items.map((i) => [i.id, i.state, i.owner ?? '', i.kind, formatAge(i.updatedAt, now), i.originThread ?? '', truncate(i.externalRef ? `${i.title} [${i.externalRef}]` : i.title, 80)]),
      ),
    );
  }
  writeUsage(usage, opts.thread, out);
}

/** The model usage the daily budgets count: per persona, then per thread (heaviest first). */
function writeUsage(usage: UsageReport, thread: string | undefined, out: NodeJS.WritableStream): void {
  const since = `${usage.since.slice(0, 16).replace('T', ' ')} UTC`;
  if (!usage.personas.length) {
    out.write(`\nModel usage since ${since}: none.\n`);
    return;
  }
  const row = (l: UsageLine) => [l.key, String(l.calls), l.inputTokens.toLocaleString('en'), l.outputTokens.toLocaleString('en'), `$${l.costUsd.toFixed(4)}`];
  out.write(`\nModel usage since ${since}, per persona:\n`);
  out.write(formatTable(['PERSONA', 'CALLS', 'INPUT TOKENS', 'OUTPUT TOKENS', 'COST'], usage.personas.map(row)));
  const threads = usage.threads.filter((l) => !thread || l.key === thread);
  out.write(`\nper thread${thread ? '' : ' (unfinished runs count as -)'}:\n`);
  out.write(formatTable(['THREAD', 'CALLS', 'INPUT TOKENS', 'OUTPUT TOKENS', 'COST'], threads.map(row)));
}

async function showItem(opts: WorkCommandOptions, id: string, server: string | undefined, out: NodeJS.WritableStream): Promise<void> {
  let found: { item: WorkItem; events: WorkItemEvent[] } | undefined;
  if (server) {
    try {
      found = (await getJson(server, `/api/work/${encodeURIComponent(id)}`)) as { item: WorkItem; events: WorkItemEvent[] };
    } catch (err) {
      if (!(err instanceof HttpAnswerError && err.status === 404 && /no work item/.test(err.message))) throw err;
    }
  } else {
    found = await withDatabase(opts, async (pool) => {
      const ledger = new WorkLedger(pool);
      const item = await ledger.get(id);
      return item ? { item, events: await ledger.events(item.id) } : undefined;
    });
  }
  if (!found) throw new Error(`no work item ${id}; \`pantheon work --all\` lists them`);
  if (opts.json) {
    out.write(JSON.stringify(found) + '\n');
    return;
  }
  const { item, events } = found;
  const lines = [
    `${item.id}  ${item.title}${item.externalRef ? `  [${item.externalRef}]` : ''}`,
    `  state: ${item.state}   kind: ${item.kind}   owner: ${item.owner ?? 'unassigned'}   reviewers: ${item.reviewers.length ? item.reviewers.join(', ') : '-'}`,
    `  asked by ${item.requestedBy ?? 'unknown'}${item.originThread ? ` in ${item.originThread}` : ''} at ${formatTime(item.createdAt)}; last activity ${formatAge(item.updatedAt)}`,
    '',
  ];
  out.write(lines.join('\n') + '\n');
  out.write(
    formatTable(
      ['TIME', 'ACTOR', 'EVENT', 'DETAIL'],
      events.map((e) => [formatTime(e.at), e.actor, e.kind, truncate(describeEvent(e), 100)]),
    ),
  );
}

/** `requested → in_progress: note`, `apollo → hermes`, the progress text, or the detail as JSON. */
function describeEvent(e: WorkItemEvent): string {
  const d = e.detail as Record<string, unknown>;
  switch (e.kind) {
    case 'created':
      return `${d.kind ?? ''} "${d.title ?? ''}" (${d.state ?? ''})`;
    case 'state_changed':
    case 'assigned':
      return `${d.from ?? 'nobody'} → ${d.to ?? 'nobody'}${d.note ? `: ${d.note}` : ''}`;
    case 'reviewer_added':
      return String(d.reviewer ?? '');
    case 'progress':
    case 'note':
      return String(d.text ?? '');
    default:
      return Object.keys(d).length ? JSON.stringify(d) : '';
  }
}
