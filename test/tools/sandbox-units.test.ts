/**
 * The sandbox's parts that need no bubblewrap: denied networks, rlimits, the exact bwrap and
 * `docker run` command lines, a ContainerSandbox driven through a fake `docker` CLI, and how
 * `sandbox.backend` resolves when the named backend is missing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pantheonConfigSchema, sandboxLimitsSchema } from '../../core/config/schema.js';
import { BubblewrapSandbox, EGRESS_INIT, type BubblewrapOptions } from '../../tools/sandbox/bubblewrap.js';
import { ContainerSandbox } from '../../tools/sandbox/container.js';
import { ALWAYS_DENIED, deniedNetworks, hostAddresses, parseCidr } from '../../tools/sandbox/denied-networks.js';
import { ETC_ENTRIES, generatedEtc, hostEntries, SYSTEM_DIRS } from '../../tools/sandbox/host-view.js';
import { limitArgs, MB, withLimit } from '../../tools/sandbox/limits.js';
import type { SupervisedResult } from '../../tools/sandbox/process.js';
import { resolveSandbox, which } from '../../tools/sandbox/resolve.js';
import { SandboxUnavailableError, type SandboxSpec } from '../../tools/sandbox/types.js';
import { UnsandboxedRunner } from '../../tools/sandbox/unsandboxed.js';
import { tempDir } from '../support/pantheon-process.js';

const limits = sandboxLimitsSchema.parse({ memoryMb: 256, processes: 64, cpuSeconds: 30, outputMb: 2, tmpMb: 32 });
const DATA = '/srv/pantheon-data';
const spec = (over: Partial<SandboxSpec> = {}): SandboxSpec => ({
  argv: ['/bin/sh', '-c', 'npm test'],
  workspace: `${DATA}/workspaces/apollo/acme-api-1`,
  cwd: `${DATA}/workspaces/apollo/acme-api-1/packages/web`,
  home: `${DATA}/workspaces/apollo/.homes/acme-api-1`,
  network: 'none',
  timeoutMs: 10_000,
  ...over,
});

/** Every `flag a b` triple of an argument list, for the flags that take two paths. */
function pairs(args: readonly string[], flag: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  args.forEach((a, i) => {
    if (a === flag) out.push([args[i + 1]!, args[i + 2]!]);
  });
  return out;
}
const values = (args: readonly string[], flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));

describe('denied networks', () => {
  test('parseCidr: an address is a /32, a range stays; anything else names the entry', () => {
    assert.equal(parseCidr('10.1.2.3'), '10.1.2.3/32');
    assert.equal(parseCidr(' 10.0.0.0/8 '), '10.0.0.0/8');
    assert.equal(parseCidr('0.0.0.0/0'), '0.0.0.0/0');
    for (const bad of ['example.com', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/8/1', '10.0.0/8', '::1', 'fe80::/10', '', '10.0.0.0/x', '10.0.0.0/8.5']) {
      assert.throws(
        () => parseCidr(bad),
        (err: Error) => err.message === `sandbox.denyNetworks: "${bad}" is not an IPv4 address or CIDR range (e.g. 10.0.0.0/8)`,
        bad,
      );
    }
  });

  test("deniedNetworks: always metadata, link-local, slirp's host alias and the host's own addresses; the operator's, once each", () => {
    const denied = deniedNetworks(['192.168.0.0/16', '10.9.9.9', '192.168.0.0/16']);
    for (const n of ALWAYS_DENIED) assert.ok(denied.includes(n), n);
    assert.ok(denied.includes('169.254.0.0/16') && denied.includes('10.0.2.2/32'));
    for (const a of hostAddresses()) assert.ok(denied.includes(a), `the host's own ${a}`);
    assert.ok(denied.includes('192.168.0.0/16') && denied.includes('10.9.9.9/32'));
    assert.equal(denied.length, new Set(denied).size);
    assert.throws(() => deniedNetworks(['10.0.0.0/8', 'intranet']), /^Error: sandbox\.denyNetworks: "intranet" is not an IPv4 address/);
  });

  test('hostAddresses: IPv4, not loopback, each once', () => {
    const a = (address: string, family: 'IPv4' | 'IPv6', internal = false) => ({ address, family, internal, netmask: '', mac: '', cidr: null }) as never;
    const found = hostAddresses({
      lo: [a('127.0.0.1', 'IPv4', true), a('::1', 'IPv6', true)],
      eth0: [a('192.0.2.7', 'IPv4'), a('2001:db8::7', 'IPv6')],
      br0: [a('192.0.2.7', 'IPv4'), a('172.17.0.1', 'IPv4')],
    });
    assert.deepEqual(found, ['192.0.2.7/32', '172.17.0.1/32']);
  });
});

describe('rlimits', () => {
  test('CPU (SIGXCPU first, SIGKILL a second later), no core dumps and processes always; memory by RLIMIT_DATA only without a cgroup', () => {
    assert.deepEqual(limitArgs(limits, { cgroup: true }), ['--cpu=30:31', '--core=0', '--nproc=64']);
    assert.deepEqual(limitArgs(limits, { cgroup: false }), ['--cpu=30:31', '--core=0', `--data=${256 * MB}`, '--nproc=64']);
    assert.deepEqual(limitArgs(limits, { cgroup: true, fileBytes: 50 * MB }), ['--cpu=30:31', '--core=0', `--fsize=${50 * MB}`, '--nproc=64']);
    assert.ok(!limitArgs(limits, { cgroup: false }).some((a) => a.startsWith('--as')), 'no address-space limit: V8 reserves far more than it uses');
  });

  test('withLimit names what stopped a command', () => {
    const r = (over: Partial<SupervisedResult> = {}): SupervisedResult => ({ code: 0, signal: null, timedOut: false, stdout: '', stderr: '', output: '', durationMs: 1, ...over });
    const s = { timeoutMs: 90_000, diskQuotaBytes: 100 * MB };
    const none = { memory: false, processes: false };
    assert.equal(withLimit(r(), limits, s, undefined, none).limit, undefined);
    assert.match(withLimit(r({ timedOut: true }), limits, s, 'timeout', none).limitMessage!, /after 90 s/);
    assert.equal(withLimit(r(), limits, s, 'output', none).limit, 'output');
    assert.match(withLimit(r(), limits, s, 'disk', none).limitMessage!, /disk quota of 100 MB/);
    assert.equal(withLimit(r({ code: 137 }), limits, s, undefined, { memory: false, processes: true }).limit, 'processes');
    assert.match(withLimit(r({ code: 137 }), limits, s, undefined, { memory: true, processes: false }).limitMessage!, /256 MB together/);
    assert.equal(withLimit(r({ code: 152 }), limits, s, undefined, none).limit, 'cpu');
    assert.equal(withLimit(r({ code: null, signal: 'SIGXFSZ' }), limits, s, undefined, none).limit, 'disk');
    assert.equal(withLimit(r({ code: 137 }), limits, s, undefined, none).limit, undefined, 'a kill alone names no limit');
  });
});

describe('bubblewrap command line', () => {
  const etc = Object.fromEntries(Object.keys(generatedEtc()).map((p) => [p, `${DATA}/sandbox/etc/${p.slice(5)}`]));
  const options = (over: Partial<BubblewrapOptions> = {}): BubblewrapOptions => ({
    tools: { bwrap: '/usr/bin/bwrap', version: '0.8.0', prlimit: '/usr/bin/prlimit', slirp: '/usr/bin/slirp4netns', ip: '/usr/bin/ip', setpriv: '/usr/bin/setpriv' },
    limits,
    hostEntries: hostEntries(),
    etc,
    deniedNetworks: deniedNetworks(),
    ...over,
  });
  const bw = new BubblewrapSandbox(options());

  test('every namespace, no capabilities, dies with Pantheon, a clean environment', () => {
    const a = bw.bwrapArgs(spec());
    for (const flag of ['--unshare-all', '--unshare-user', '--die-with-parent', '--new-session', '--clearenv']) assert.ok(a.includes(flag), flag);
    assert.deepEqual(values(a, '--cap-drop'), ['ALL']);
    assert.deepEqual(values(a, '--cap-add'), [], 'no capability without a network to set up');
    assert.ok(!a.includes('--share-net'));
    assert.deepEqual(Object.fromEntries(pairs(a, '--setenv')), {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: spec().home,
      LANG: 'C.UTF-8',
      CI: '1',
      TMPDIR: '/tmp',
      USER: 'root',
    });
    assert.equal(a.at(-1), '--');
    assert.deepEqual(values(a, '--chdir'), [spec().cwd]);
    const egress = bw.bwrapArgs(spec({ network: 'egress', env: { NPM_CONFIG_CACHE: '/x' } }));
    assert.deepEqual(values(egress, '--cap-add'), ['CAP_NET_ADMIN', 'CAP_SETPCAP'], 'only to set up its own network, dropped before the command runs');
    assert.equal(Object.fromEntries(pairs(egress, '--setenv')).NPM_CONFIG_CACHE, '/x');
  });

  test("the mounts: the workspace and HOME read-write; system directories and a few /etc files read-only; nothing of Pantheon's", () => {
    const s = spec({ readOnly: ['/srv/mirror.git'] });
    const a = bw.bwrapArgs(s);
    assert.deepEqual(pairs(a, '--bind'), [
      [s.home, s.home],
      [s.workspace, s.workspace],
    ]);
    assert.deepEqual(pairs(a, '--dev-bind'), []);
    const ro = pairs(a, '--ro-bind');
    const allowed = new Set<string>([...SYSTEM_DIRS, ...ETC_ENTRIES, ...Object.values(etc), '/srv/mirror.git']);
    for (const [from, to] of ro) {
      assert.ok(allowed.has(from), `read-only ${from} is a system path`);
      assert.ok(from === to || etc[to] === from, `${from} appears at ${to}`);
    }
    const sources = [...pairs(a, '--bind'), ...ro].map(([from]) => from);
    for (const hidden of [DATA, `${DATA}/workspaces`, `${DATA}/workspaces/apollo`, '/', '/root', '/home', '/etc', '/etc/ssh', '/run', '/var', '/proc', '/sys', '/tmp', process.cwd()]) {
      assert.ok(!sources.includes(hidden), `${hidden} is not mounted`);
    }
    assert.ok(ro.some(([, to]) => to === '/etc/passwd') && etc['/etc/passwd'] === ro.find(([, to]) => to === '/etc/passwd')![0], "Pantheon's own passwd");
    assert.deepEqual(values(a, '--proc'), ['/proc']);
    assert.deepEqual(values(a, '--tmpfs'), ['/tmp', '/dev/shm']);
    assert.deepEqual(values(a, '--size'), [String(32 * MB), String(32 * MB)], '/tmp and /dev/shm are limited');
    // The root goes read-only after everything is mounted on it.
    assert.deepEqual(values(a, '--remount-ro'), ['/', '/dev']);
    assert.ok(a.indexOf('--remount-ro') > a.lastIndexOf('--bind') && a.indexOf('--remount-ro') > a.lastIndexOf('--ro-bind'));
  });

  test('the host view this machine gets: no /etc, /root, /home, /var or /run as a whole', () => {
    const paths = hostEntries().map((e) => e.path);
    for (const hidden of ['/etc', '/root', '/home', '/var', '/run', '/tmp', '/srv', '/opt', '/etc/ssh', '/etc/shadow']) assert.ok(!paths.includes(hidden), hidden);
    assert.ok(paths.includes('/usr'));
  });

  test('run(): with egress, the network step and then the limits; without, the limits alone; passthrough has no network', async () => {
    const inner = (network: 'none' | 'egress') =>
      (bw as unknown as { inner(s: SandboxSpec, cgroup: boolean): string[] }).inner(spec({ network, argv: ['npm', 'test'], diskQuotaBytes: 10 * MB }), true);
    assert.deepEqual(inner('none'), ['/usr/bin/prlimit', '--cpu=30:31', '--core=0', `--fsize=${10 * MB}`, '--nproc=64', '--', 'npm', 'test']);
    const e = inner('egress');
    assert.deepEqual(e.slice(0, 4), ['/bin/sh', '-c', EGRESS_INIT, 'pantheon-sandbox']);
    const batch = e[4]!.trim().split('\n');
    assert.deepEqual(batch.slice(0, 4), ['link set tap0 mtu 65520', 'link set tap0 up', 'addr add 10.0.2.100/24 dev tap0', 'route add default via 10.0.2.2 dev tap0']);
    assert.deepEqual(
      batch.slice(4),
      deniedNetworks().map((n) => `route add unreachable ${n}`),
    );
    assert.deepEqual(e.slice(5, 8), ['/usr/bin/ip', '/usr/bin/setpriv', '--']);
    assert.deepEqual(e.slice(8), ['/usr/bin/prlimit', '--cpu=30:31', '--core=0', `--fsize=${10 * MB}`, '--nproc=64', '--', 'npm', 'test']);
    const p = await bw.passthrough({ argv: ['git-upload-pack', '.'], workspace: spec().workspace, cwd: spec().workspace, home: spec().home });
    assert.equal(p.argv[0], '/usr/bin/bwrap');
    assert.ok(p.argv.includes('--unshare-all') && !p.argv.includes('--cap-add') && !p.argv.includes('/bin/sh'));
    assert.deepEqual(p.argv.slice(p.argv.indexOf('--') + 1), ['/usr/bin/prlimit', '--cpu=30:31', '--core=0', `--data=${256 * MB}`, '--nproc=64', '--', 'git-upload-pack', '.']);
    await p.dispose();
  });

  test('egress without slirp4netns is refused with what to install, before anything runs', async () => {
    const offline = new BubblewrapSandbox(options({ tools: { bwrap: '/nonexistent/bwrap', version: '0.8.0', prlimit: '/usr/bin/prlimit' } }));
    await assert.rejects(offline.run(spec({ network: 'egress' })), (err: Error) => err instanceof SandboxUnavailableError && /slirp4netns and iproute2/.test(err.message));
    assert.match(offline.describe(), /none only \(install slirp4netns for egress\)/);
    assert.match(bw.describe(), /^bubblewrap 0\.8\.0; network: egress through slirp4netns .*memory 256 MB and 64 processes \(rlimits/);
  });
});

describe('docker and podman command lines', () => {
  const docker = new ContainerSandbox({ cli: '/usr/bin/docker', engine: 'docker', version: '27.0.1', image: 'node:20-bookworm', limits, uid: 1001, gid: 1002 });

  test("network none: no network, read-only root, no capabilities, no new privileges, the limits, Pantheon's uid, the workspace mounted", () => {
    const s = spec({ readOnly: ['/srv/mirror.git'], env: { NPM_CONFIG_CACHE: '/x' } });
    const a = docker.runArgs(s, 'pantheon-sbx-1', true);
    assert.deepEqual(a.slice(0, 4), ['run', '--rm', '--name', 'pantheon-sbx-1']);
    assert.deepEqual(values(a, '--network'), ['none']);
    for (const flag of ['--read-only', '--init', '-i']) assert.ok(a.includes(flag), flag);
    assert.deepEqual(values(a, '--cap-drop'), ['ALL']);
    assert.deepEqual(values(a, '--cap-add'), []);
    assert.deepEqual(values(a, '--security-opt'), ['no-new-privileges']);
    assert.deepEqual(values(a, '--pull'), ['never']);
    assert.deepEqual(values(a, '--memory'), ['256m']);
    assert.deepEqual(values(a, '--memory-swap'), ['256m'], 'no swap past the limit');
    assert.deepEqual(values(a, '--pids-limit'), ['64']);
    assert.deepEqual(values(a, '--user'), ['1001:1002']);
    assert.deepEqual(values(a, '--tmpfs'), ['/tmp:rw,nosuid,nodev,size=32m,mode=1777']);
    assert.deepEqual(values(a, '-v'), [`${s.home}:${s.home}:rw`, `${s.workspace}:${s.workspace}:rw`, '/srv/mirror.git:/srv/mirror.git:ro']);
    assert.deepEqual(values(a, '-w'), [s.cwd]);
    assert.deepEqual(values(a, '-e'), [`HOME=${s.home}`, 'LANG=C.UTF-8', 'CI=1', 'TMPDIR=/tmp', 'NPM_CONFIG_CACHE=/x']);
    assert.ok(!a.includes('--privileged') && !a.some((x) => x.includes('docker.sock')));
    assert.equal(a.at(-1), 'node:20-bookworm');
    assert.deepEqual(docker.inner(spec({ argv: ['npm', 'test'] })), ['prlimit', '--cpu=30:31', '--core=0', '--nproc=64', '--', 'npm', 'test']);
    assert.ok(!docker.runArgs(s, 'x', false).includes('-i'));
  });

  test("network egress: the bridge, and a first step that denies the host's and link-local networks, then drops to Pantheon's uid", () => {
    const a = docker.runArgs(spec({ network: 'egress' }), 'pantheon-sbx-2', true);
    assert.deepEqual(values(a, '--network'), ['bridge']);
    assert.deepEqual(values(a, '--cap-drop'), ['ALL']);
    assert.deepEqual(values(a, '--cap-add'), ['NET_ADMIN', 'SETPCAP', 'SETUID', 'SETGID']);
    assert.deepEqual(values(a, '--user'), ['0:0']);
    const inner = docker.inner(spec({ network: 'egress', argv: ['npm', 'ci'], diskQuotaBytes: 5 * MB }));
    assert.deepEqual(inner.slice(0, 4), ['/bin/sh', '-c', EGRESS_INIT, 'pantheon-sandbox']);
    const batch = inner[4]!.trim().split('\n');
    assert.ok(batch.includes('route add unreachable 169.254.0.0/16') && batch.includes('route add unreachable 10.0.2.2/32'));
    assert.ok(
      batch.every((l) => l.startsWith('route add unreachable ')),
      'the bridge is configured already: no tap set-up',
    );
    assert.deepEqual(inner.slice(5), [
      'ip',
      'setpriv',
      '--reuid=1001',
      '--regid=1002',
      '--clear-groups',
      '--',
      'prlimit',
      '--cpu=30:31',
      '--core=0',
      `--fsize=${5 * MB}`,
      '--nproc=64',
      '--',
      'npm',
      'ci',
    ]);
  });

  test("podman keeps the user's id mapping; a bad denyNetworks entry stops the command line", () => {
    const podman = new ContainerSandbox({ cli: '/usr/bin/podman', engine: 'podman', version: '5.0', image: 'img', limits, uid: 1001, gid: 1001, denyNetworks: ['office'] });
    assert.equal(podman.backend, 'podman');
    assert.deepEqual(values(podman.runArgs(spec(), 'n', true), '--userns'), ['keep-id']);
    assert.throws(() => podman.inner(spec({ network: 'egress' })), /sandbox\.denyNetworks: "office"/);
  });
});

describe('a ContainerSandbox through a fake docker CLI', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let cli: string;
  const IMAGE = 'pantheon-fake-image';

  before(async () => {
    dir = await tempDir('pantheon-fake-docker-');
    cli = join(dir.path, 'docker');
    // Logs each call; `run` executes what follows the image on this host; `kill` records the
    // name and kills what `run` started under it; `version` answers like a daemon.
    await writeFile(
      cli,
      `#!/bin/sh
dir=$(dirname "$0")
printf '%s\\n' "$*" >> "$dir/calls.log"
case "$1" in
  version) echo 27.0.1-fake ;;
  kill) echo "$2" >> "$dir/kills.log"; [ -f "$dir/$2.pid" ] && kill -9 "$(cat "$dir/$2.pid")" ;;
  run)
    name=
    while [ $# -gt 0 ]; do
      case "$1" in
        --name) name=$2; shift 2 ;;
        ${IMAGE}) shift; break ;;
        *) shift ;;
      esac
    done
    echo $$ > "$dir/$name.pid"
    exec "$@" ;;
  *) echo "fake docker: unexpected $1" >&2; exit 2 ;;
esac
`,
    );
    await chmod(cli, 0o755);
  });
  after(() => dir?.remove());

  const sandbox = () => new ContainerSandbox({ cli, engine: 'docker', version: 'fake', image: IMAGE, limits });
  const calls = async (file: string) => (await readFile(join(dir.path, file), 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);

  test("a normal run returns the command's output and exit code, standard input passed through", async () => {
    const ws = join(dir.path, 'ws');
    await mkdir(ws, { recursive: true });
    const r = await sandbox().run(spec({ argv: ['/bin/sh', '-c', 'cat; echo out; echo err >&2; exit 3'], workspace: ws, cwd: ws, home: ws, input: 'in\n' }));
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'in\nout\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(r.limit, undefined);
    const run = (await calls('calls.log')).at(-1)!;
    assert.match(run, /^run --rm --name pantheon-sbx-[0-9a-f]{12} --init --pull never --read-only .* -i --network none .* pantheon-fake-image prlimit --cpu=30:31 /);
  });

  test('a timeout asks the engine to kill the container by name', async () => {
    const ws = join(dir.path, 'ws2');
    await mkdir(ws, { recursive: true });
    const r = await sandbox().run(spec({ argv: ['/bin/sleep', '30'], workspace: ws, cwd: ws, home: ws, timeoutMs: 500 }));
    assert.equal(r.limit, 'timeout');
    assert.ok(r.durationMs < 5000, `${r.durationMs}`);
    const name = /--name (pantheon-sbx-[0-9a-f]+)/.exec((await calls('calls.log')).filter((c) => c.startsWith('run ')).at(-1)!)![1]!;
    // `docker kill` runs beside the client's own kill: give it a moment to be logged.
    for (let i = 0; i < 50 && !(await calls('kills.log')).includes(name); i++) await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(await calls('kills.log'), [name]);
    assert.ok((await calls('calls.log')).includes(`kill ${name}`));
  });

  test('resolveSandbox: backend docker with a CLI whose daemon answers', async () => {
    const saved = process.env.PATH;
    process.env.PATH = `${dir.path}:${saved}`;
    try {
      const r = await resolveSandbox(pantheonConfigSchema.shape.sandbox.parse({ backend: 'docker' }), { dataDir: dir.path });
      assert.equal(r.problem, undefined);
      assert.equal(r.sandbox?.backend, 'docker');
      assert.match(r.sandbox!.describe(), /^docker 27\.0\.1-fake, image node:20-bookworm; /);
    } finally {
      process.env.PATH = saved;
    }
  });
});

describe('resolving sandbox.backend', () => {
  let empty: { path: string; remove: () => Promise<void> };
  before(async () => {
    empty = await tempDir('pantheon-empty-path-');
  });
  after(() => empty?.remove());

  const withPath = async <T>(path: string, f: () => Promise<T>): Promise<T> => {
    const saved = process.env.PATH;
    process.env.PATH = path;
    try {
      return await f();
    } finally {
      process.env.PATH = saved;
    }
  };
  const config = (backend: string) => pantheonConfigSchema.shape.sandbox.parse({ backend });

  test('docker or podman that is not installed, or whose daemon does not answer, is a problem naming it', async (t) => {
    for (const engine of ['docker', 'podman'] as const) {
      const r = await withPath(empty.path, () => resolveSandbox(config(engine), { dataDir: empty.path }));
      // which() also looks in the system directories, where a CLI may be installed without a daemon.
      const installed = which(engine, empty.path);
      if (r.sandbox) {
        t.diagnostic(`${engine} at ${installed} answers here: its missing case is not checked`);
        continue;
      }
      assert.ok(r.problem instanceof SandboxUnavailableError);
      assert.match(r.problem.message, /^Workspace commands are disabled: /);
      assert.match(
        r.problem.message,
        installed
          ? new RegExp(`sandbox\\.backend is ${engine}, but "${engine} version" failed \\(.*\\): start its daemon or service`)
          : new RegExp(`sandbox\\.backend is ${engine}, but the ${engine} command is not installed`),
      );
      assert.match(r.problem.message, /Or set sandbox\.backend: none in pantheon\.yaml/);
    }
  });

  test('a docker CLI that cannot reach its daemon is a problem saying to start it', async () => {
    const broken = join(empty.path, 'bin');
    await mkdir(broken, { recursive: true });
    await writeFile(join(broken, 'docker'), '#!/bin/sh\necho "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2\nexit 1\n', { mode: 0o755 });
    const r = await withPath(broken, () => resolveSandbox(config('docker'), { dataDir: empty.path }));
    assert.equal(r.sandbox, undefined);
    assert.match(r.problem!.message, /"docker version" failed \(Cannot connect to the Docker daemon at unix:\/\/\/var\/run\/docker\.sock\.\): start its daemon or service/);
  });

  test('backend none: the unsandboxed runner, with a warning, and a clean environment', async () => {
    const r = await resolveSandbox(config('none'), { dataDir: empty.path });
    assert.ok(r.sandbox instanceof UnsandboxedRunner);
    assert.equal(r.problem, undefined);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /sandbox\.backend is none: commands personas run are NOT contained .* every run_workspace_command waits for an approver/);
    assert.match(r.sandbox.describe(), /NOT contained/);
    process.env.PANTHEON_UNIT_SECRET = 'unit-secret-value';
    try {
      const out = await r.sandbox.run(spec({ argv: ['/usr/bin/env'], workspace: empty.path, cwd: empty.path, home: empty.path }));
      assert.doesNotMatch(out.stdout, /unit-secret-value/);
      assert.match(out.stdout, new RegExp(`^HOME=${empty.path}$`, 'm'));
    } finally {
      delete process.env.PANTHEON_UNIT_SECRET;
    }
    assert.deepEqual((await r.sandbox.passthrough({ argv: ['cat'], workspace: empty.path, cwd: empty.path, home: empty.path })).argv, ['cat']);
  });
});

test('unsandboxed: a daemon that keeps the output open does not hold up the result', async () => {
  const { UnsandboxedRunner } = await import('../../tools/sandbox/unsandboxed.js');
  const { pantheonConfigSchema: schema } = await import('../../core/config/schema.js');
  const runner = new UnsandboxedRunner(schema.parse({}).sandbox.limits);
  const tag = `sleep 31.${process.pid}`;
  const started = performance.now();
  try {
    const r = await runner.run({ argv: ['/bin/sh', '-c', `setsid ${tag} & echo started`], workspace: '/tmp', cwd: '/tmp', home: '/tmp', network: 'none', timeoutMs: 20_000 });
    assert.match(r.stdout, /started/);
    assert.ok(performance.now() - started < 5000, `settled after ${Math.round(performance.now() - started)} ms`);
  } finally {
    const { execFileSync } = await import('node:child_process');
    try {
      execFileSync('pkill', ['-f', tag]);
    } catch {
      // already gone
    }
  }
});
