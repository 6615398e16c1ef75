import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EGRESS_INIT, INIT_FAILED } from './bubblewrap.js';
import { deniedNetworks } from './denied-networks.js';
import { describeLimit, limitArgs, MB, withLimit } from './limits.js';
import { supervise } from './process.js';
import type { Sandbox, SandboxLimits, SandboxResult, SandboxSpec } from './types.js';
import { diskWatch, watchesDisk, WATCH_INTERVAL_MS } from './disk-use.js';

export interface ContainerOptions {
  /** The docker or podman command. */
  cli: string;
  engine: 'docker' | 'podman';
  version: string;
  image: string;
  limits: SandboxLimits;
  denyNetworks?: readonly string[];
  /** Pantheon's uid and gid: the files commands write in the workspace stay Pantheon's. */
  uid?: number;
  gid?: number;
}

/**
 * `sandbox.backend: docker | podman`: each command in a fresh container of `sandbox.image`, with
 * the workspace and its HOME bind-mounted at their own paths, a read-only root, a private /tmp,
 * no capabilities, and the engine's memory, process and CPU limits. With `network: egress` the
 * container joins the default bridge, and a first step inside it makes the host's addresses and
 * link-local (metadata) unreachable before dropping its last capability; the image needs
 * iproute2 and util-linux for that (Debian-based images such as node:20-bookworm have them).
 */
/** What the engine's client needs of Pantheon's environment to find its daemon and configuration; no secrets. */
const ENGINE_ENV = [
  'PATH',
  'HOME',
  'XDG_RUNTIME_DIR',
  'XDG_CONFIG_HOME',
  'DOCKER_HOST',
  'DOCKER_CONTEXT',
  'DOCKER_CONFIG',
  'CONTAINER_HOST',
  'CONTAINERS_CONF',
  'CONTAINERS_STORAGE_CONF',
  'CONTAINERS_REGISTRIES_CONF',
];

export function engineEnv(from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/' };
  for (const k of ENGINE_ENV) if (from[k]) env[k] = from[k];
  return env;
}

export class ContainerSandbox implements Sandbox {
  readonly backend: 'docker' | 'podman';

  constructor(private readonly o: ContainerOptions) {
    this.backend = o.engine;
  }

  describe(): string {
    return `${this.o.engine} ${this.o.version}, image ${this.o.image}; network: egress on the default bridge (host and link-local denied inside) or none; ${describeLimit(this.o.limits, `${this.o.engine}'s own`)}`;
  }

  /** `docker run ...` up to the image, for `spec`. */
  runArgs(spec: Pick<SandboxSpec, 'workspace' | 'cwd' | 'home' | 'readOnly' | 'env' | 'network' | 'diskQuotaBytes'>, name: string, interactive: boolean): string[] {
    const l = this.o.limits;
    const uid = this.o.uid ?? process.getuid?.() ?? 0;
    const gid = this.o.gid ?? process.getgid?.() ?? 0;
    // `-v src:dst:mode` has no quoting: a path with ':' (or ',') would be read as something else.
    for (const p of [spec.home, spec.workspace, ...(spec.readOnly ?? [])]) {
      if (/[:,]/.test(p)) throw new Error(`the ${this.o.engine} backend cannot mount ${p}: its path has a ':' or ','; move the data dir (dataDir in pantheon.yaml) to a plain path`);
    }
    const a = ['run', '--rm', '--name', name, '--init', '--pull', 'never', '--read-only', '--security-opt', 'no-new-privileges', '--cap-drop', 'ALL'];
    if (interactive) a.push('-i');
    if (spec.network === 'egress') a.push('--network', 'bridge', '--cap-add', 'NET_ADMIN', '--cap-add', 'SETPCAP', '--cap-add', 'SETUID', '--cap-add', 'SETGID', '--user', '0:0');
    else a.push('--network', 'none', '--user', `${uid}:${gid}`);
    if (this.o.engine === 'podman' && uid !== 0) a.push('--userns', 'keep-id');
    a.push('--memory', `${l.memoryMb}m`, '--memory-swap', `${l.memoryMb}m`, '--pids-limit', String(l.processes));
    a.push('--tmpfs', `/tmp:rw,nosuid,nodev,size=${l.tmpMb}m,mode=1777`);
    a.push('-v', `${spec.home}:${spec.home}:rw`, '-v', `${spec.workspace}:${spec.workspace}:rw`);
    for (const p of spec.readOnly ?? []) a.push('-v', `${p}:${p}:ro`);
    a.push('-w', spec.cwd);
    const env: Record<string, string> = { HOME: spec.home, LANG: 'C.UTF-8', CI: '1', TMPDIR: '/tmp', ...spec.env };
    for (const [k, v] of Object.entries(env)) a.push('-e', `${k}=${v}`);
    a.push(this.o.image);
    return a;
  }

  /** What runs in the container: the network step when networked, then rlimits, then the command. */
  inner(spec: Pick<SandboxSpec, 'argv' | 'network' | 'diskQuotaBytes'>): string[] {
    const limited = ['prlimit', ...limitArgs(this.o.limits, { cgroup: true, fileBytes: spec.diskQuotaBytes }), '--', ...spec.argv];
    if (spec.network === 'none') return limited;
    const uid = this.o.uid ?? process.getuid?.() ?? 0;
    const gid = this.o.gid ?? process.getgid?.() ?? 0;
    const batch = deniedNetworks(this.o.denyNetworks)
      .map((n) => `route add unreachable ${n}\n`)
      .join('');
    // After the network step the command runs as Pantheon's uid, without capabilities.
    return ['/bin/sh', '-c', EGRESS_INIT, 'pantheon-sandbox', batch, 'ip', 'setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', ...limited];
  }

  async run(spec: SandboxSpec): Promise<SandboxResult> {
    const name = `pantheon-sbx-${randomBytes(6).toString('hex')}`;
    const r = await supervise(
      this.o.cli,
      [...this.runArgs(spec, name, true), ...this.inner(spec)],
      {
        cwd: '/',
        env: engineEnv(),
        timeoutMs: spec.timeoutMs,
        input: spec.input,
        headChars: spec.headChars,
        tailChars: spec.tailChars,
        maxOutputBytes: this.o.limits.outputMb * MB,
      },
      {
        // Killing the client does not stop a container: the engine must.
        kill: () => execFile(this.o.cli, ['kill', name], { env: engineEnv() }, () => {}),
        watch: watchesDisk(spec) ? { intervalMs: WATCH_INTERVAL_MS, check: diskWatch(spec).check } : undefined,
      },
    );
    if (spec.network === 'egress' && r.code === INIT_FAILED && /could not deny networks/.test(r.stderr)) {
      throw new Error(`the sandbox could not restrict the container's network (the image ${this.o.image} needs iproute2 and util-linux), so the command did not run: ${r.stderr.trim().slice(0, 300)}`);
    }
    const stop = r.stopped?.kind === 'watch' ? r.stopped.reason : r.stopped?.kind;
    // The engine answers 137 when its memory limit killed the command.
    return withLimit(r, this.o.limits, spec, stop, { memory: r.code === 137 && !stop, processes: false });
  }

  async passthrough(spec: Parameters<Sandbox['passthrough']>[0]): Promise<{ argv: string[]; dispose(): Promise<void> }> {
    const name = `pantheon-sbx-${randomBytes(6).toString('hex')}`;
    const s = { ...spec, network: 'none' as const };
    return { argv: [this.o.cli, ...this.runArgs(s, name, true), ...this.inner(s)], dispose: async () => {} };
  }
}
