import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { hostArch, seccompFilter } from './seccomp.js';
import { closeInheritedFds } from './inherited-fds.js';
import { join, delimiter } from 'node:path';
import type { SandboxConfig } from '../../core/config/schema.js';
import { BubblewrapSandbox, type BubblewrapTools } from './bubblewrap.js';
import { findCgroupHost } from './cgroup.js';
import { ContainerSandbox, engineEnv } from './container.js';
import { deniedNetworks } from './denied-networks.js';
import { hostEntries, SYSTEM_DIRS, writeGeneratedEtc } from './host-view.js';
import { SandboxUnavailableError, type Sandbox } from './types.js';
import { UnsandboxedRunner } from './unsandboxed.js';

/** What `sandbox:` in pantheon.yaml comes to on this host: a working backend, or why there is none. */
export interface ResolvedSandbox {
  sandbox?: Sandbox;
  /** Why commands cannot run here, naming what to install or set (when `sandbox` is absent). */
  problem?: SandboxUnavailableError;
  /** Things the operator should know although commands can run (e.g. `backend: none`). */
  warnings: string[];
}

const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The first executable `name` on PATH and the usual system directories. */
export function which(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of [...path.split(delimiter).filter(Boolean), ...SYSTEM_PATH]) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // next
    }
  }
  return undefined;
}

function run(file: string, args: string[], timeoutMs = 10_000, env: NodeJS.ProcessEnv = {}): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, env }, (err, stdout, stderr) => resolve({ ok: !err, out: `${stdout}${stderr}`.trim() }));
  });
}

const INSTALL_BWRAP = 'install bubblewrap and slirp4netns (Debian/Ubuntu: apt-get install bubblewrap slirp4netns iproute2; Fedora: dnf install bubblewrap slirp4netns)';

/** A program as the sandbox sees it: under a read-only system directory, or not at all. */
function systemProgram(name: string): string | undefined {
  for (const dir of SYSTEM_PATH) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      if (SYSTEM_DIRS.some((d) => file.startsWith(`${d}/`))) return file;
    } catch {
      // next
    }
  }
  return undefined;
}

async function bubblewrap(config: SandboxConfig, dataDir: string, which: (name: string) => string | undefined): Promise<{ sandbox?: Sandbox; problem?: string; warnings: string[] }> {
  const warnings: string[] = [];
  if (process.platform !== 'linux') return { problem: `bubblewrap needs Linux; on ${process.platform} set sandbox.backend: docker or podman`, warnings };
  const bwrap = which('bwrap');
  if (!bwrap) return { problem: `bubblewrap (bwrap) is not installed: ${INSTALL_BWRAP}`, warnings };
  const prlimit = systemProgram('prlimit');
  if (!prlimit) return { problem: 'prlimit (util-linux) is missing from /usr/bin: install util-linux', warnings };
  const version = (await run(bwrap, ['--version'])).out.replace(/^bubblewrap\s*/i, '') || 'unknown version';
  const tools: BubblewrapTools = { bwrap, version, prlimit };
  const slirp = which('slirp4netns');
  const ip = systemProgram('ip');
  const setpriv = systemProgram('setpriv');
  if (slirp && ip && setpriv) Object.assign(tools, { slirp, ip, setpriv });
  else if (config.network === 'egress')
    warnings.push(
      `commands have no network: egress needs ${[!slirp && 'slirp4netns', !ip && 'iproute2 (ip)', !setpriv && 'util-linux (setpriv)'].filter(Boolean).join(', ')} (apt-get install slirp4netns iproute2); set sandbox.network: none to say offline is intended`,
    );
  let denied: string[];
  try {
    denied = deniedNetworks(config.denyNetworks);
  } catch (err) {
    return { problem: (err as Error).message, warnings };
  }
  const etc = await writeGeneratedEtc(join(dataDir, 'sandbox', 'etc'));
  const cgroups = await findCgroupHost().catch(() => undefined);
  const arch = hostArch();
  let seccompFile: string | undefined;
  if (arch) {
    seccompFile = join(dataDir, 'sandbox', 'seccomp.bpf');
    await writeFile(seccompFile, seccompFilter(arch), { mode: 0o600 });
  } else {
    warnings.push(`no seccomp filter on ${process.arch} (built for x86_64 and arm64 only): commands are contained by namespaces, capabilities and mounts alone`);
  }
  const sandbox = new BubblewrapSandbox({ tools, limits: config.limits, hostEntries: hostEntries(config.readOnlyPaths), etc, deniedNetworks: denied, cgroups, seccompFile });
  // Namespaces may be off (kernel.unprivileged_userns_clone=0, AppArmor's userns restriction, a container without them).
  const probeDir = join(dataDir, 'sandbox', 'probe');
  await mkdir(probeDir, { recursive: true, mode: 0o700 });
  const probe = await sandbox.run({ argv: ['/bin/true'], workspace: probeDir, cwd: probeDir, home: probeDir, network: 'none', timeoutMs: 15_000 }).then(
    (r) => (r.code === 0 ? undefined : r.output.trim() || `exit code ${r.code}, signal ${r.signal}, ${r.limitMessage ?? ''} ${JSON.stringify(r.stderr)}`),
    (err: Error) => err.message,
  );
  if (probe !== undefined) {
    return {
      problem: `bubblewrap is installed but cannot create namespaces here (${probe.slice(0, 300)}): allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 an AppArmor profile for bwrap), or set sandbox.backend: docker or podman`,
      warnings,
    };
  }
  return { sandbox, warnings };
}

/**
 * Picks and checks the backend `config.backend` names (`auto`: bubblewrap where it works).
 * Never throws: a host without a usable backend gets `problem`, and workspace commands are refused.
 */
export async function resolveSandbox(config: SandboxConfig, opts: { dataDir: string; which?: (name: string) => string | undefined }): Promise<ResolvedSandbox> {
  const find = opts.which ?? which;
  // Before any command starts: what Pantheon inherited must not be inherited further.
  closeInheritedFds();
  const unavailable = (why: string, warnings: string[] = []) => ({
    problem: new SandboxUnavailableError(`Workspace commands are disabled: ${why}. Or set sandbox.backend: none in pantheon.yaml to run them unsandboxed, each after an approver's yes.`),
    warnings,
  });
  switch (config.backend) {
    case 'none':
      return {
        sandbox: new UnsandboxedRunner(config.limits),
        warnings: ["sandbox.backend is none: commands personas run are NOT contained (they can read Pantheon's files and reach its services); every run_workspace_command waits for an approver"],
      };
    case 'docker':
    case 'podman': {
      const cli = find(config.backend);
      if (!cli) return unavailable(`sandbox.backend is ${config.backend}, but the ${config.backend} command is not installed`);
      // docker answers for its daemon; podman has none (its own version is the engine's).
      const r = await run(cli, ['version', '--format', config.backend === 'docker' ? '{{.Server.Version}}' : '{{.Client.Version}}'], 15_000, engineEnv());
      if (!r.ok) return unavailable(`sandbox.backend is ${config.backend}, but "${config.backend} version" failed (${r.out.split('\n')[0]?.slice(0, 200)}): start its daemon or service`);
      return { sandbox: new ContainerSandbox({ cli, engine: config.backend, version: r.out.trim(), image: config.image, limits: config.limits, denyNetworks: config.denyNetworks }), warnings: [] };
    }
    case 'bubblewrap':
    case 'auto': {
      const b = await bubblewrap(config, opts.dataDir, find);
      if (b.sandbox) return { sandbox: b.sandbox, warnings: b.warnings };
      return unavailable(`no usable sandbox: ${b.problem}`, b.warnings);
    }
  }
}
