import { chmod, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../core/log.js';
import { diskUse, formatBytes } from './disk-use.js';
import { lastUsed, listWorkspacesOnDisk } from './inventory.js';
import { metaFile, personaRoot, transportRepo, workspaceHome } from './naming.js';
import { IN_USE_MS, retentionOf, type RetentionPolicy, type WorkItemLookup } from './retention.js';

/** One workspace removed by a clean-up pass. */
export interface WorkspaceRemoval {
  persona: string;
  name: string;
  reason: string;
  /** Checkout, HOME and transport repository together, measured just before removal. */
  bytesFreed: number;
}

export interface CleanupOptions extends RetentionPolicy {
  dataDir: string;
  /** The ledger; without one only workspaces without metadata can be judged. */
  lookup?: WorkItemLookup;
  logger: Logger;
  now?: () => Date;
  /** Stops a pass between two workspaces (shutdown). */
  signal?: AbortSignal;
  /** Measure and answer what would be removed, removing nothing (`pantheon prune --dry-run`). */
  dryRun?: boolean;
}

/**
 * One clean-up pass over this data dir's workspaces: removes those `retentionOf` finds due, and
 * logs a line for each (persona, workspace, why, bytes freed). A workspace whose work item cannot
 * be looked up is kept; a removal that fails is logged and tried again next pass.
 */
export async function cleanWorkspaces(opts: CleanupOptions): Promise<WorkspaceRemoval[]> {
  const now = opts.now ?? (() => new Date());
  const removed: WorkspaceRemoval[] = [];
  for (const ws of await listWorkspacesOnDisk(opts.dataDir)) {
    if (opts.signal?.aborted) break;
    const r = await retentionOf(ws, opts.lookup, opts, now());
    if (!r.remove) continue;
    // A tool may have started using it while the ledger was asked: look again just before.
    const used = await lastUsed(opts.dataDir, ws.persona, ws.name);
    if (used && now().getTime() - used.getTime() < (opts.inUseMs ?? IN_USE_MS)) continue;
    const parts = workspaceParts(opts.dataDir, ws.persona, ws.name);
    try {
      const bytesFreed = await diskUse([parts.checkout, parts.home, parts.transport]);
      if (opts.dryRun) {
        removed.push({ persona: ws.persona, name: ws.name, reason: r.reason, bytesFreed });
        continue;
      }
      await removeWorkspace(opts.dataDir, ws.persona, ws.name);
      removed.push({ persona: ws.persona, name: ws.name, reason: r.reason, bytesFreed });
      opts.logger.info(
        { persona: ws.persona, workspace: ws.name, reason: r.reason, bytesFreed },
        `removed workspace ${ws.persona}/${ws.name} (${r.reason}; kept ${opts.retentionDays} days): ${formatBytes(bytesFreed)} freed`,
      );
    } catch (err) {
      opts.logger.warn({ persona: ws.persona, workspace: ws.name, err: (err as Error).message }, `could not remove workspace ${ws.persona}/${ws.name}; trying again at the next clean-up`);
    }
  }
  return removed;
}

/** Where one workspace's parts live. */
function workspaceParts(dataDir: string, persona: string, name: string) {
  return {
    checkout: join(personaRoot(dataDir, persona), name),
    home: workspaceHome(dataDir, persona, name),
    transport: transportRepo(dataDir, persona, name),
    meta: metaFile(dataDir, persona, name),
  };
}

/**
 * Deletes a workspace: its checkout, its HOME, its transport repository, and last its metadata
 * (so an interrupted removal is still found by name and finished next time). Missing parts are
 * fine. Read-only directories (Go's module cache makes them) are made writable first.
 */
export async function removeWorkspace(dataDir: string, persona: string, name: string): Promise<void> {
  const p = workspaceParts(dataDir, persona, name);
  for (const path of [p.checkout, p.home, p.transport, p.meta]) await removeTree(path);
}

async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch (err) {
    if (!['EACCES', 'EPERM', 'ENOTEMPTY'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    await makeWritable(path);
    await rm(path, { recursive: true, force: true });
  }
}

async function makeWritable(root: string): Promise<void> {
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop()!;
    await chmod(dir, 0o700).catch(() => {});
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isDirectory()) stack.push(join(dir, e.name));
  }
}

export interface WorkspaceCleanup {
  /** Clears the timer and waits for a pass under way (it stops between two workspaces). */
  stop(): Promise<void>;
}

/**
 * Runs `cleanWorkspaces` now and then every `intervalMs` (default an hour) in this process.
 *
 * Workspaces live on this replica's local disk, in its own data dir, and only this replica's
 * tools use them: every replica cleans its own, so no lock is shared between replicas. The
 * timer is unref'd: it never keeps the process alive.
 */
export function startWorkspaceCleanup(opts: Omit<CleanupOptions, 'signal'> & { intervalMs?: number }): WorkspaceCleanup {
  const abort = new AbortController();
  let current: Promise<void> | undefined;
  const pass = () => {
    if (current || abort.signal.aborted) return; // a pass that takes longer than the interval is not doubled
    current = cleanWorkspaces({ ...opts, signal: abort.signal })
      .then(
        () => {},
        (err: unknown) => opts.logger.warn({ err }, 'workspace clean-up failed'),
      )
      .finally(() => {
        current = undefined;
      });
  };
  pass();
  const timer = setInterval(pass, opts.intervalMs ?? 60 * 60_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      abort.abort();
      await current;
    },
  };
}
