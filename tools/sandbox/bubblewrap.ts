import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import type { CgroupHost, CommandCgroup } from './cgroup.js';
import { diskWatch, watchesDisk, WATCH_INTERVAL_MS } from './disk-use.js';
import { attachEgress, SLIRP_TAP_SETUP, type Egress } from './egress.js';
import type { HostEntry } from './host-view.js';
import { supervise, type SupervisedResult } from './process.js';
import { describeLimit, limitArgs, MB, withLimit } from './limits.js';
import { SandboxUnavailableError, type Sandbox, type SandboxLimits, type SandboxResult, type SandboxSpec } from './types.js';

/** Where the programs the sandbox needs are, on the host (and so, read-only, inside it). */
export interface BubblewrapTools {
  bwrap: string;
  version: string;
  prlimit: string;
  /** For `network: egress`: slirp4netns, and iproute2's `ip` and util-linux's `setpriv` inside. */
  slirp?: string;
  ip?: string;
  setpriv?: string;
}

export interface BubblewrapOptions {
  tools: BubblewrapTools;
  limits: SandboxLimits;
  /** Read-only host entries (host-view.ts) and Pantheon's own /etc files (sandbox path → host file). */
  hostEntries: HostEntry[];
  etc: Record<string, string>;
  /** IPv4 CIDRs made unreachable inside the sandbox (denied-networks.ts). */
  deniedNetworks: string[];
  /** Where Pantheon may create a cgroup per command; rlimits only when absent. */
  cgroups?: CgroupHost;
  /** The seccomp filter (seccomp.ts) as a file bwrap reads, or none. */
  seccompFile?: string;
}

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The sandboxed command's first step with `network: egress`: it runs an `ip -batch` in its own
 * network namespace (it holds CAP_NET_ADMIN there, and only there) that makes the denied networks
 * unreachable (with bubblewrap, after configuring slirp4netns' tap device), then drops every
 * capability for good and runs the command.
 */
export const EGRESS_INIT =
  'batch="$1"; ip="$2"; setpriv="$3"; shift 3\n' +
  'fail() { echo "pantheon sandbox: could not deny networks" >&2; exit 125; }\n' +
  'printf "%s" "$batch" | "$ip" -batch - || fail\n' +
  // The default gateway is the host as well (slirp's 10.0.2.2, a container bridge's address):
  // unreachable as a destination, while still forwarding everything else.
  'gw=$("$ip" route show default | { read -r _ _ g _; echo "$g"; })\n' +
  '[ -z "$gw" ] || "$ip" route replace unreachable "$gw/32" || fail\n' +
  'exec "$setpriv" --inh-caps=-all --ambient-caps=-all --bounding-set=-all "$@"';

/** Exit code of EGRESS_INIT when the network could not be restricted (the command never ran). */
export const INIT_FAILED = 125;

/**
 * bubblewrap: unprivileged Linux namespaces, no daemon. Each command gets its own user, PID,
 * mount, IPC, UTS, cgroup and network namespaces; a root of its own with the system directories
 * read-only, the workspace and its HOME read-write, a private /tmp; no capabilities; limits by
 * cgroup (memory, processes) where Pantheon may create one, else by rlimits, and always on CPU
 * time and file size. Killing the namespace's first process ends everything in it.
 */
export class BubblewrapSandbox implements Sandbox {
  readonly backend = 'bubblewrap' as const;

  constructor(private readonly o: BubblewrapOptions) {}

  describe(): string {
    const net = this.o.tools.slirp ? 'egress through slirp4netns (never the host or link-local) or none' : 'none only (install slirp4netns for egress)';
    return `bubblewrap ${this.o.tools.version}; network: ${net}; ${describeLimit(this.o.limits, this.o.cgroups?.describe())}`;
  }

  /** bwrap's arguments up to and including `--`, for `spec`. */
  bwrapArgs(spec: Pick<SandboxSpec, 'workspace' | 'cwd' | 'home' | 'readOnly' | 'env' | 'network'>, fds: { block?: number; info?: number; seccomp?: number } = {}): string[] {
    const a = ['--unshare-all', '--unshare-user', '--uid', '0', '--gid', '0', '--hostname', 'sandbox', '--die-with-parent', '--new-session', '--clearenv'];
    const env: Record<string, string> = { PATH, HOME: spec.home, LANG: 'C.UTF-8', CI: '1', TMPDIR: '/tmp', USER: 'root', ...spec.env };
    for (const [k, v] of Object.entries(env)) a.push('--setenv', k, v);
    a.push('--cap-drop', 'ALL');
    if (spec.network === 'egress') a.push('--cap-add', 'CAP_NET_ADMIN', '--cap-add', 'CAP_SETPCAP');
    for (const e of this.o.hostEntries) {
      if (e.kind === 'symlink') a.push('--symlink', e.target, e.path);
      else a.push('--ro-bind', e.path, e.path);
    }
    for (const [inside, file] of Object.entries(this.o.etc)) a.push('--ro-bind', file, inside);
    a.push('--proc', '/proc', '--dev', '/dev');
    a.push('--size', String(this.o.limits.tmpMb * MB), '--tmpfs', '/tmp');
    a.push('--dir', '/var', '--symlink', '../tmp', '/var/tmp');
    a.push('--bind', spec.home, spec.home);
    a.push('--bind', spec.workspace, spec.workspace);
    for (const p of spec.readOnly ?? []) a.push('--ro-bind', p, p);
    // bwrap's root is a writable tmpfs without a size limit: read-only, so only the workspace,
    // HOME and the size-limited /tmp take writes.
    a.push('--remount-ro', '/');
    // /dev is a tmpfs too (with the device nodes): read-only, with a size-limited /dev/shm for
    // programs that share memory through it. Writing to /dev/null and the like still works.
    a.push('--remount-ro', '/dev', '--size', String(this.o.limits.tmpMb * MB), '--tmpfs', '/dev/shm');
    a.push('--chdir', spec.cwd);
    if (fds.block !== undefined) a.push('--block-fd', String(fds.block));
    if (fds.info !== undefined) a.push('--info-fd', String(fds.info));
    if (fds.seccomp !== undefined) a.push('--seccomp', String(fds.seccomp));
    a.push('--');
    return a;
  }

  /** What runs inside bwrap: the egress step when networked, then the limits, then the command. */
  private inner(spec: SandboxSpec, withCgroup: boolean): string[] {
    const limited = [this.o.tools.prlimit, ...limitArgs(this.o.limits, { cgroup: withCgroup, fileBytes: spec.diskQuotaBytes }), '--', ...spec.argv];
    if (spec.network === 'none') return limited;
    const batch = [...SLIRP_TAP_SETUP, ...this.o.deniedNetworks.map((n) => `route add unreachable ${n}`)].map((l) => `${l}\n`).join('');
    return ['/bin/sh', '-c', EGRESS_INIT, 'pantheon-sandbox', batch, this.o.tools.ip!, this.o.tools.setpriv!, '--', ...limited];
  }

  async run(spec: SandboxSpec): Promise<SandboxResult> {
    if (spec.network === 'egress' && !(this.o.tools.slirp && this.o.tools.ip && this.o.tools.setpriv)) {
      throw new SandboxUnavailableError('network egress for commands needs slirp4netns and iproute2 (apt-get install slirp4netns iproute2), or set sandbox.network: none');
    }
    let cgroup: CommandCgroup | undefined;
    let egress: Egress | undefined;
    let sandboxPid: number | undefined;
    const name = `run-${randomBytes(6).toString('hex')}`;
    const memoryBytes = this.o.limits.memoryMb * MB;
    const watchDisk = watchesDisk(spec);
    let processesHit = false;
    let seccompFd: number | undefined;
    const disk = diskWatch(spec);
    try {
      if (this.o.cgroups) cgroup = await this.o.cgroups.create(name, { memoryBytes, processes: this.o.limits.processes });
      seccompFd = this.o.seccompFile ? openSync(this.o.seccompFile, 'r') : undefined;
      const args = [...this.bwrapArgs(spec, { block: 3, info: 4, seccomp: seccompFd === undefined ? undefined : 5 }), ...this.inner(spec, cgroup !== undefined)];
      const result = await supervise(
        this.o.tools.bwrap,
        args,
        {
          cwd: '/',
          env: {},
          timeoutMs: spec.timeoutMs,
          input: spec.input,
          headChars: spec.headChars,
          tailChars: spec.tailChars,
          maxOutputBytes: this.o.limits.outputMb * MB,
        },
        {
          extraStdio: seccompFd === undefined ? ['pipe', 'pipe'] : ['pipe', 'pipe', seccompFd],
          started: async (child) => {
            // bwrap closes its ends early; a reset on ours is expected, not an error.
            for (const fd of [3, 4]) (child.stdio[fd] as Readable).on('error', () => {});
            sandboxPid = await readChildPid(child);
            // The sandbox's first process, still blocked: all it will run is counted from here on.
            if (cgroup) await cgroup.add(sandboxPid);
            if (spec.network === 'egress') egress = await attachEgress(this.o.tools.slirp!, sandboxPid);
            const block = child.stdio[3] as Writable;
            block.end('1');
          },
          kill: () => {
            // The namespace's first process: when it dies, the kernel kills everything in it.
            if (sandboxPid) {
              try {
                process.kill(sandboxPid, 'SIGKILL');
              } catch {
                // gone already
              }
            }
            void cgroup?.killAll();
          },
          watch:
            cgroup || watchDisk
              ? {
                  intervalMs: WATCH_INTERVAL_MS,
                  check: async () => {
                    if (cgroup && (await cgroup.hits()).processes) {
                      processesHit = true;
                      return 'processes';
                    }
                    return watchDisk ? disk.check() : undefined;
                  },
                }
              : undefined,
        },
      );
      const hits = cgroup ? await cgroup.hits() : { memory: false, processes: false };
      return this.outcome(spec, result, { memory: hits.memory, processes: hits.processes || processesHit });
    } finally {
      if (seccompFd !== undefined) closeSync(seccompFd);
      egress?.stop();
      // Its processes are gone or going: the group is removed without holding up the result.
      void cgroup?.remove().catch(() => {});
    }
  }

  private outcome(spec: SandboxSpec, r: SupervisedResult, hits: { memory: boolean; processes: boolean }): SandboxResult {
    const stopped = r.stopped;
    if (stopped?.kind === 'setup') throw new Error(`the sandbox could not start the command: ${stopped.error.message}${r.stderr.trim() ? ` (${r.stderr.trim().slice(0, 500)})` : ''}`);
    if (spec.network === 'egress' && r.code === INIT_FAILED && /pantheon sandbox: could not deny networks/.test(r.stderr)) {
      throw new Error(`the sandbox could not restrict the command's network, so it did not run: ${r.stderr.trim().slice(0, 500)}`);
    }
    return withLimit(r, this.o.limits, spec, stopped?.kind === 'watch' ? stopped.reason : stopped?.kind, hits);
  }

  async passthrough(spec: Parameters<Sandbox['passthrough']>[0]): Promise<{ argv: string[]; dispose(): Promise<void> }> {
    const s = { ...spec, network: 'none' as const, timeoutMs: 0 };
    const bwrap = [this.o.tools.bwrap, ...this.bwrapArgs(s, { seccomp: this.o.seccompFile ? 5 : undefined }), ...this.inner(s, false)];
    // The filter reaches bwrap on fd 5, opened by a shell in front of it.
    const argv = this.o.seccompFile ? ['/bin/sh', '-c', 'f="$1"; shift; exec "$@" 5<"$f"', 'pantheon-sandbox', this.o.seccompFile, ...bwrap] : bwrap;
    return { argv, dispose: async () => {} };
  }
}

/** The sandbox's first process, as bwrap reports it on its info fd. */
function readChildPid(child: ChildProcess): Promise<number> {
  const info = child.stdio[4] as Readable;
  return new Promise((resolve, reject) => {
    let text = '';
    let settled = false;
    info.setEncoding('utf8');
    // Read to the end: bwrap writes the rest of its report after the pid, and dies of SIGPIPE if
    // nobody reads it.
    info.on('data', (d: string) => {
      if (settled) return;
      text += d;
      const m = /"child-pid"\s*:\s*(\d+)/.exec(text);
      if (m) {
        settled = true;
        resolve(Number(m[1]));
      }
    });
    info.on('end', () => {
      if (!settled) reject(new Error('bubblewrap ended before it started the command'));
      settled = true;
    });
  });
}
