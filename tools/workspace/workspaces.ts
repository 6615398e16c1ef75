import { mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { WorkspacePlace, WorkspaceSandboxing } from './sandboxed.js';
import { metaFile, parseWorkspaceArg, personaRoot, transportRepo, workspaceHome } from './naming.js';

/** What Pantheon remembers about a checkout: which work item it is for, and its work branch. */
export interface WorkspaceMeta {
  owner: string;
  repo: string;
  issue: number;
  branch: string;
  defaultBranch: string;
  cloneUrl: string;
}

/** An existing checkout. */
export interface Workspace {
  name: string;
  dir: string;
  meta: WorkspaceMeta;
}

/** Thrown when a tool names a workspace that was never cloned. */
class NoSuchWorkspaceError extends Error {
  constructor(name: string, existing: string[]) {
    super(`No workspace "${name}": clone the repository for the issue first (tool clone)${existing.length ? `; your workspaces: ${existing.join(', ')}` : ''}.`);
    this.name = 'NoSuchWorkspaceError';
  }
}

/** One persona's checkouts under `<dataDir>/workspaces/<persona>/`. */
export class Workspaces {
  constructor(
    readonly dataDir: string,
    readonly persona: string,
    /** How this persona's commands are contained (absent only in tests that run no command). */
    readonly sandboxing?: WorkspaceSandboxing,
  ) {}

  /** The sandboxing of this persona's commands; throws when the group was built without one. */
  get sandbox(): WorkspaceSandboxing {
    if (!this.sandboxing) throw new Error('workspace commands need a sandbox: none was configured for this tool group');
    return this.sandboxing;
  }

  /** Where commands of workspace `name` run: its checkout and its HOME (created on first use). */
  async place(name: string): Promise<WorkspacePlace> {
    return { dir: this.dir(name), home: await this.home(name) };
  }

  dir(name: string): string {
    return join(personaRoot(this.dataDir, this.persona), name);
  }

  /** The workspace's private HOME for commands, created on first use. */
  async home(name: string): Promise<string> {
    const home = workspaceHome(this.dataDir, this.persona, name);
    await mkdir(home, { recursive: true, mode: 0o700 });
    return home;
  }

  /** Pantheon's own bare repository for the workspace (talks to GitHub; never seen by commands). */
  transport(name: string): string {
    return transportRepo(this.dataDir, this.persona, name);
  }

  async exists(name: string): Promise<boolean> {
    return stat(join(this.dir(name), '.git')).then(
      () => true,
      () => false,
    );
  }

  /** The workspace a tool argument names; throws when it does not exist. */
  async open(arg: string): Promise<Workspace> {
    const name = parseWorkspaceArg(arg);
    const meta = await this.readMeta(name);
    if (!meta || !(await this.exists(name))) throw new NoSuchWorkspaceError(name, await this.list());
    await this.touch(name);
    return { name, dir: this.dir(name), meta };
  }

  async readMeta(name: string): Promise<WorkspaceMeta | undefined> {
    try {
      return JSON.parse(await readFile(metaFile(this.dataDir, this.persona, name), 'utf8')) as WorkspaceMeta;
    } catch {
      return undefined;
    }
  }

  async saveMeta(name: string, meta: WorkspaceMeta): Promise<void> {
    const file = metaFile(this.dataDir, this.persona, name);
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, `${JSON.stringify(meta, null, 2)}\n`);
  }

  /**
   * Records that the workspace is being used now (its metadata file's mtime; the checkout's when
   * there is no metadata yet). Clean-up (retention.ts) never removes a workspace used within the
   * last hour, and removes one without a work item only after `workspaces.retentionDays` unused.
   */
  async touch(name: string): Promise<void> {
    const now = new Date();
    await utimes(metaFile(this.dataDir, this.persona, name), now, now).catch(() => utimes(this.dir(name), now, now).catch(() => {}));
  }

  /** Names of the persona's workspaces. */
  async list(): Promise<string[]> {
    const entries = await readdir(personaRoot(this.dataDir, this.persona), { withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  }
}
