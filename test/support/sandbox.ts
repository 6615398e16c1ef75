import { pantheonConfigSchema } from '../../core/config/schema.js';
import { resolveSandbox, type ResolvedSandbox } from '../../tools/sandbox/resolve.js';
import type { SandboxNetwork } from '../../tools/sandbox/types.js';
import type { WorkspaceSandboxing } from '../../tools/workspace/sandboxed.js';

/**
 * The sandbox tests run commands in: this host's real one (bubblewrap), as `pantheon start`
 * would resolve it with the default config. `skip` says why there is none: tests skip with it
 * outside CI, and fail under CI, where .ci/run installs bubblewrap.
 */
export async function testSandbox(dataDir: string, overrides: Record<string, unknown> = {}): Promise<{ resolved: ResolvedSandbox; skip: string | false }> {
  const config = pantheonConfigSchema.parse({ sandbox: overrides }).sandbox;
  const resolved = await resolveSandbox(config, { dataDir });
  if (resolved.sandbox) return { resolved, skip: false };
  const why = `no sandbox here (${resolved.problem?.message}): install bubblewrap slirp4netns iproute2`;
  if (process.env.CI) throw new Error(why);
  return { resolved, skip: why };
}

/** What the workspace tool group takes: every persona with `network` and a quota. */
export function sandboxingFor(resolved: ResolvedSandbox, network: SandboxNetwork = 'none', quotaMb = 4096): (persona: string) => WorkspaceSandboxing {
  return () => ({ resolved, network, quotaBytes: quotaMb * 1024 * 1024 });
}
