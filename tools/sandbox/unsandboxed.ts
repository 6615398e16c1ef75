import { diskWatch, watchesDisk, WATCH_INTERVAL_MS } from './disk-use.js';
import { sandboxEnv, supervise } from './process.js';
import { MB, withLimit } from './limits.js';
import type { Sandbox, SandboxLimits, SandboxResult, SandboxSpec } from './types.js';

/**
 * `sandbox.backend: none`: commands run as Pantheon's own user, with a clean environment, a
 * timeout, an output limit and the disk quota, and nothing else between them and the host. Only
 * for an operator who says so; every command then waits for an approver (run-command.ts).
 */
export class UnsandboxedRunner implements Sandbox {
  readonly backend = 'none' as const;

  constructor(private readonly limits: SandboxLimits) {}

  describe(): string {
    return 'none: commands are NOT contained (each run_workspace_command waits for an approver)';
  }

  async run(spec: SandboxSpec): Promise<SandboxResult> {
    const r = await supervise(
      spec.argv[0]!,
      spec.argv.slice(1),
      {
        cwd: spec.cwd,
        env: { ...sandboxEnv(spec.home), ...spec.env },
        timeoutMs: spec.timeoutMs,
        input: spec.input,
        headChars: spec.headChars,
        tailChars: spec.tailChars,
        maxOutputBytes: this.limits.outputMb * MB,
      },
      {
        watch: watchesDisk(spec) ? { intervalMs: WATCH_INTERVAL_MS, check: diskWatch(spec).check } : undefined,
      },
    );
    const stop = r.stopped?.kind === 'watch' ? r.stopped.reason : r.stopped?.kind;
    return withLimit(r, this.limits, spec, stop, { memory: false, processes: false });
  }

  async passthrough(spec: Parameters<Sandbox['passthrough']>[0]): Promise<{ argv: string[]; dispose(): Promise<void> }> {
    return { argv: [...spec.argv], dispose: async () => {} };
  }
}
