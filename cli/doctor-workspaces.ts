import { join } from 'node:path';
import type { WorkspacesConfig } from '../core/config/schema.js';
import type { WorkItem, WorkItemEvent } from '../ledger/types.js';
import { FINISHED_STATES } from '../ledger/types.js';
import { formatBytes, quotaBytes, workspaceDiskUse } from '../tools/workspace/disk-use.js';
import { listWorkspacesOnDisk } from '../tools/workspace/inventory.js';
import { endOf, issueRefs, removalNote, retentionOf, type WorkItemLookup, type WorkItemStatus } from '../tools/workspace/retention.js';
import { getJson } from './audit.js';
import { ok, warn, type Fact } from './doctor-report.js';

/** One workspace as `pantheon doctor --json` reports it. */
export interface WorkspaceReport {
  persona: string;
  name: string;
  /** Checkout and HOME together. */
  bytes: number;
  quotaBytes: number;
  overQuota: boolean;
  /** `acme/api#12`, from the workspace's metadata. */
  issue?: string;
  workItem?: WorkItemStatus;
  lastUsedAt: Date;
  /** When clean-up will remove it if nothing changes; absent while its work is in flight or unknown. */
  removeAt?: Date;
  /** What retention makes of it, in words. */
  retention: string;
}

/** Where the work items come from, or why they cannot be read (then nothing is said of them). */
export interface WorkItemSource {
  lookup?: WorkItemLookup;
  problem?: string;
}

/**
 * The Workspaces section: a total, then a line per workspace with its disk use against the quota
 * and what clean-up will do with it. Over quota is a warning: the sandbox refuses commands in it.
 */
export async function workspaceFacts(opts: {
  dataDir: string;
  config: WorkspacesConfig;
  /** Called only when there are workspaces to look up (it may open the database). */
  workItems: () => Promise<WorkItemSource>;
  now?: Date;
}): Promise<{ facts: Fact[]; workspaces: WorkspaceReport[] }> {
  const now = opts.now ?? new Date();
  const quota = quotaBytes(opts.config.quotaMb);
  const found = await listWorkspacesOnDisk(opts.dataDir);
  const days = opts.config.retentionDays;
  const policy = `quota ${formatBytes(quota)} each; removed ${days} ${days === 1 ? 'day' : 'days'} after their work item ends`;
  if (found.length === 0) return { facts: [ok(`workspaces: none in ${join(opts.dataDir, 'workspaces')} (${policy})`)], workspaces: [] };

  const source = found.some((w) => w.meta) ? await opts.workItems() : {};
  const workspaces: WorkspaceReport[] = [];
  for (const ws of found) {
    const bytes = await workspaceDiskUse(opts.dataDir, ws.persona, ws.name);
    const r = await retentionOf(ws, source.lookup, opts.config, now);
    workspaces.push({
      persona: ws.persona,
      name: ws.name,
      bytes,
      quotaBytes: quota,
      overQuota: bytes > quota,
      issue: ws.meta ? `${ws.meta.owner}/${ws.meta.repo}#${ws.meta.issue}` : undefined,
      workItem: r.workItem,
      lastUsedAt: ws.lastUsedAt,
      removeAt: r.removeAt,
      retention: `${r.reason}${removalNote(r, now)}`,
    });
  }

  const total = workspaces.reduce((sum, w) => sum + w.bytes, 0);
  const over = workspaces.filter((w) => w.overQuota).length;
  const facts: Fact[] = [(over ? warn : ok)(`workspaces: ${workspaces.length}, ${formatBytes(total)} in all${over ? `, ${over} over quota` : ''} (${policy})`)];
  if (source.problem) facts.push(warn(`work items: cannot be read (${source.problem}); workspaces with one are kept until they can`));
  for (const w of workspaces) {
    const use = `${formatBytes(w.bytes)} of ${formatBytes(w.quotaBytes)} quota${w.overQuota ? ' — over quota: commands are refused in it' : ''}`;
    const about = [w.issue ? `issue ${w.issue}` : undefined, w.retention].filter(Boolean).join(', ');
    facts.push((w.overQuota ? warn : ok)(`${w.persona}/${w.name}  ${use}  (${about})`));
  }
  return { facts, workspaces };
}

/**
 * Work items from a running server's console API (`GET /api/work`), for when the embedded database
 * belongs to that server: one list of everything, then an item's history only for finished ones.
 */
export function serverWorkItems(base: string): WorkItemLookup {
  let items: Promise<WorkItem[]> | undefined;
  return {
    async forIssue(owner, repo, issue) {
      items ??= getJson(base, '/api/work?all=1&limit=1000').then((body) => (body as { items: WorkItem[] }).items);
      const refs = issueRefs(owner, repo, issue);
      const item = (await items).find((i) => i.externalRef && refs.includes(i.externalRef));
      if (!item) return undefined;
      if (!FINISHED_STATES.includes(item.state)) return { id: item.id, state: item.state };
      const { events } = (await getJson(base, `/api/work/${encodeURIComponent(item.id)}`)) as { events: WorkItemEvent[] };
      return { id: item.id, state: item.state, endedAt: endOf(events) ?? new Date(item.updatedAt) };
    },
  };
}
