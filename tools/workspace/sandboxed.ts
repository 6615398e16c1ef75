import { diskUse, fileCount } from '../sandbox/disk-use.js';
import type { ResolvedSandbox } from '../sandbox/resolve.js';
import type { SandboxNetwork, SandboxResult } from '../sandbox/types.js';

const MB = 1024 * 1024;

/** How one persona's workspace commands are contained: the host's sandbox, its network, the quota. */
export interface WorkspaceSandboxing {
  resolved: ResolvedSandbox;
  /** The persona's network (`sandbox.network`, or its own override). */
  network: SandboxNetwork;
  /** Disk one workspace may use, checkout and HOME together. */
  quotaBytes: number;
  /** Files and directories it may hold (`workspaces.quotaFiles`). */
  quotaFiles?: number;
  /** `sandbox.env`: what the operator gives every command (never secrets). */
  env?: Readonly<Record<string, string>>;
}

/** Where a command runs: a workspace's checkout and its private HOME. */
export interface WorkspacePlace {
  dir: string;
  home: string;
}

export interface InWorkspaceOptions {
  cwd?: string;
  timeoutMs: number;
  input?: string;
  headChars?: number;
  tailChars?: number;
  /** Default: the persona's network. Pantheon's own git steps run with none. */
  network?: SandboxNetwork;
  readOnly?: string[];
  env?: Record<string, string>;
  /** Refuse to start when the workspace is already over its quota (commands the persona asked for). */
  checkQuota?: boolean;
}

/** Thrown when a workspace is over its disk quota before a command starts. */
class WorkspaceOverQuotaError extends Error {
  constructor(used: number, quota: number, unit: 'bytes' | 'files' = 'bytes') {
    super(
      unit === 'files'
        ? `The workspace and its HOME hold ${used} files and directories, over their quota of ${quota} (workspaces.quotaFiles): delete what is not needed (e.g. with a command such as "rm -rf node_modules/.cache") before running anything else.`
        : `The workspace and its HOME use ${Math.round(used / MB)} MB, over their quota of ${Math.round(quota / MB)} MB (workspaces.quotaMb): delete build output or caches (e.g. with a command such as "rm -rf dist node_modules/.cache") before running anything else.`,
    );
    this.name = 'WorkspaceOverQuotaError';
  }
}

/** Runs `argv` in the sandbox, in a workspace; throws the sandbox's own problem when there is none. */
export async function runInWorkspace(s: WorkspaceSandboxing, at: WorkspacePlace, argv: readonly string[], o: InWorkspaceOptions): Promise<SandboxResult> {
  const sandbox = s.resolved.sandbox;
  if (!sandbox) throw s.resolved.problem ?? new Error('no sandbox');
  if (o.checkQuota) {
    // The watcher only sees what changes while a command runs: a full workspace is refused upfront.
    const used = await diskUse([at.dir, at.home]);
    if (used > s.quotaBytes) throw new WorkspaceOverQuotaError(used, s.quotaBytes);
    const files = s.quotaFiles === undefined ? undefined : await fileCount([at.dir, at.home]);
    if (files !== undefined && files > s.quotaFiles!) throw new WorkspaceOverQuotaError(files, s.quotaFiles!, 'files');
  }
  return sandbox.run({
    argv,
    workspace: at.dir,
    cwd: o.cwd ?? at.dir,
    home: at.home,
    network: o.network ?? s.network,
    readOnly: o.readOnly,
    env: { ...s.env, ...o.env },
    timeoutMs: o.timeoutMs,
    input: o.input,
    headChars: o.headChars,
    tailChars: o.tailChars,
    diskQuotaBytes: s.quotaBytes,
    diskQuotaFiles: s.quotaFiles,
  });
}
