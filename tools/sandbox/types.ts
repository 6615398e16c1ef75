import type { SandboxLimitsConfig } from '../../core/config/schema.js';
import type { RunResult } from './process.js';

/**
 * A sandbox runs a command a persona asked for (or a git step that reads repository-controlled
 * files) so that it cannot see Pantheon: not its processes, environment, data dir, config or
 * persona files, not the invoking user's home, not the host's loopback services. It sees the
 * workspace (read-write), a private HOME and /tmp, and the system's programs (read-only), and it
 * is stopped, with everything it started, at its limits. docs/security.md has the whole model.
 */

type SandboxBackendName = 'bubblewrap' | 'docker' | 'podman' | 'none';

/** `egress`: the outside world, never the host itself nor link-local (cloud metadata). */
export type SandboxNetwork = 'egress' | 'none';

export type SandboxLimits = SandboxLimitsConfig;

/** One command to run in the sandbox. */
export interface SandboxSpec {
  /** Program and arguments, e.g. `['/bin/sh', '-c', 'npm test']`. */
  argv: readonly string[];
  /** Mounted read-write at the same path; nothing else of the data dir is visible. */
  workspace: string;
  /** Where the command starts: the workspace or a directory inside it. */
  cwd: string;
  /** The private HOME (read-write, at the same path), outside the workspace. */
  home: string;
  /** Further host paths visible read-only at the same path (e.g. a repository to fetch from). */
  readOnly?: readonly string[];
  network: SandboxNetwork;
  /** Added to the clean environment (PATH, HOME, LANG, CI=1, TMPDIR). Never secrets. */
  env?: Readonly<Record<string, string>>;
  timeoutMs: number;
  /** Given on standard input. */
  input?: string;
  /** Characters kept from the start and from the end of the combined output. */
  headChars?: number;
  tailChars?: number;
  /** Disk the workspace and HOME may use together (bytes): past it the command is stopped. */
  diskQuotaBytes?: number;
  /** Files and directories the workspace and HOME may hold together: past it the command is stopped. */
  diskQuotaFiles?: number;
}

/** Which limit stopped a command, when one did. */
type SandboxLimitHit = 'timeout' | 'memory' | 'processes' | 'output' | 'disk' | 'cpu';

export interface SandboxResult extends RunResult {
  /** The limit that stopped the command (or that it ran into, e.g. forks refused). */
  limit?: SandboxLimitHit;
  /** One line for the persona saying what the limit was, when `limit` is set. */
  limitMessage?: string;
}

/** A backend: how commands are contained on this host. */
export interface Sandbox {
  readonly backend: SandboxBackendName;
  /** One line for start-up and `pantheon doctor`: the backend, its network and its limits. */
  describe(): string;
  run(spec: SandboxSpec): Promise<SandboxResult>;
  /**
   * A command line that runs `spec.argv` in the sandbox with standard input and output passed
   * through, and no network: for git, which runs it as `--upload-pack` to read a workspace.
   * `dispose` removes what it needed once the caller is done.
   */
  passthrough(spec: Omit<SandboxSpec, 'network' | 'timeoutMs' | 'input' | 'headChars' | 'tailChars'>): Promise<{ argv: string[]; dispose(): Promise<void> }>;
}

/** Thrown (and shown to the persona and the operator) when no sandbox can run commands here. */
export class SandboxUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxUnavailableError';
  }
}
