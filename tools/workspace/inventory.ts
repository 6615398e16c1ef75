import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { metaFile, personaRoot, transportRepo, workspaceHome } from './naming.js';
import { Workspaces, type WorkspaceMeta } from './workspaces.js';

/** A workspace found on disk, whole or in part (a clone that failed half way leaves parts). */
export interface WorkspaceOnDisk {
  persona: string;
  name: string;
  /** Absent when the metadata file is missing or unreadable: then no work item can be found. */
  meta?: WorkspaceMeta;
  /** The newest of: the metadata's mtime (tools touch it), the checkout's, its HOME's, its transport's. */
  lastUsedAt: Date;
}

/** Every workspace under `<dataDir>/workspaces/`, by persona then name. */
export async function listWorkspacesOnDisk(dataDir: string): Promise<WorkspaceOnDisk[]> {
  const found: WorkspaceOnDisk[] = [];
  for (const persona of await subdirectories(join(dataDir, 'workspaces'))) {
    const ws = new Workspaces(dataDir, persona);
    for (const name of await workspaceNames(dataDir, persona)) {
      const lastUsedAt = await lastUsed(dataDir, persona, name);
      if (!lastUsedAt) continue; // removed while we looked
      found.push({ persona, name, meta: await ws.readMeta(name), lastUsedAt });
    }
  }
  return found;
}

/**
 * A persona's workspace names: checkouts, HOMEs, metadata and transport repositories together,
 * so that what a failed clone or an interrupted removal left behind is found (and removed) too.
 */
async function workspaceNames(dataDir: string, persona: string): Promise<string[]> {
  const root = personaRoot(dataDir, persona);
  const names = new Set(await subdirectories(root));
  for (const home of await subdirectories(join(root, '.homes'))) names.add(home);
  for (const entry of await readdir(join(root, '.pantheon')).catch(() => [] as string[])) {
    const m = /^(.+)\.(json|git)$/.exec(entry);
    if (m && !m[1]!.startsWith('.')) names.add(m[1]!);
  }
  return [...names].sort();
}

/** When the workspace was last used, or undefined when nothing of it exists. */
export async function lastUsed(dataDir: string, persona: string, name: string): Promise<Date | undefined> {
  const paths = [metaFile(dataDir, persona, name), join(personaRoot(dataDir, persona), name), workspaceHome(dataDir, persona, name), transportRepo(dataDir, persona, name)];
  let newest: number | undefined;
  for (const p of paths) {
    const st = await stat(p).catch(() => undefined);
    if (st && (newest === undefined || st.mtimeMs > newest)) newest = st.mtimeMs;
  }
  return newest === undefined ? undefined : new Date(newest);
}

async function subdirectories(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}
