import type { SandboxConfig } from '../../core/config/schema.js';
import { SandboxUnavailableError, type Sandbox } from './types.js';

/** What `sandbox:` in pantheon.yaml comes to on this host: a working backend, or why there is none. */
export interface ResolvedSandbox {
  sandbox?: Sandbox;
  /** Why commands cannot run here, naming what to install or set (when `sandbox` is absent). */
  problem?: SandboxUnavailableError;
  /** Things the operator should know although commands can run (e.g. `backend: none`). */
  warnings: string[];
}

/**
 * Picks and checks the backend `config.backend` names (`auto`: bubblewrap where it works).
 * Never throws: a host without a usable backend gets `problem`, and workspace commands are refused.
 */
export async function resolveSandbox(config: SandboxConfig, opts: { dataDir: string }): Promise<ResolvedSandbox> {
  void config;
  void opts;
  return { problem: new SandboxUnavailableError('not built yet'), warnings: [] };
}
