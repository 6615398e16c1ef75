/**
 * The bubblewrap sandbox against this host's real bubblewrap, slirp4netns and cgroups: each test
 * is one thing a hostile repository's script would try, checked both ways: the command could not
 * see or reach the thing, and the ordinary thing beside it still works. Skipped, with what to
 * install, where there is no usable backend; under CI a missing backend fails.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { pantheonConfigSchema } from '../../core/config/schema.js';
import { findCgroupHost, type CgroupHost } from '../../tools/sandbox/cgroup.js';
import { resolveSandbox } from '../../tools/sandbox/resolve.js';
import type { Sandbox, SandboxNetwork, SandboxResult, SandboxSpec } from '../../tools/sandbox/types.js';
import { tempDir } from '../support/pantheon-process.js';

const CI = Boolean(process.env.CI) && process.env.CI !== 'false';
const INSTALL = 'install bubblewrap slirp4netns iproute2';
const MB = 1024 * 1024;

/** Never registered with the log scrubber: if it shows up in output, nothing hid it. */
const SECRET = `pantheon-secret-${randomBytes(12).toString('hex')}`;
process.env.PANTHEON_TEST_SECRET = SECRET;

const root = await tempDir('pantheon-sandbox-');
const dataDir = join(root.path, 'data');
const configDir = join(root.path, 'config');
const configFile = join(configDir, 'pantheon.yaml');
const personaFile = join(configDir, 'personas', 'apollo.md');
const workspace = join(dataDir, 'workspaces', 'apollo', 'acme-api-1');
const home = join(dataDir, 'workspaces', 'apollo', '.homes', 'acme-api-1');
/** Secret-holding files of the data dir: the database's WAL, another persona's workspace. */
const dataSecrets = [join(dataDir, 'pglite', 'pg_wal', '000000010000000000000001'), join(dataDir, 'workspaces', 'hermes', 'acme-web-2', '.env')];

for (const dir of [configDir, join(configDir, 'personas'), workspace, home, ...dataSecrets.map((f) => join(f, '..'))]) await mkdir(dir, { recursive: true, mode: 0o700 });
await writeFile(configFile, `server:\n  apiToken: ${SECRET}\n`);
await writeFile(personaFile, `# apollo\nThe deploy key is ${SECRET}\n`);
for (const f of dataSecrets) await writeFile(f, `token=${SECRET}\n`);
await writeFile(join(workspace, 'package.json'), '{"name":"acme-api"}\n');

const sandboxConfig = (limits: Record<string, number> = {}) =>
  pantheonConfigSchema.shape.sandbox.parse({ limits: { memoryMb: 256, processes: 64, outputMb: 1, cpuSeconds: 120, tmpMb: 64, ...limits } });
const resolved = await resolveSandbox(sandboxConfig(), { dataDir });
const skip = resolved.sandbox || CI ? false : `${INSTALL} to run these (${resolved.problem?.message ?? 'no sandbox'})`;

/** cgroups Pantheon creates for our runs, by name, to check none is left behind. */
const createdGroups: string[] = [];
function recordGroups(sandbox: Sandbox): CgroupHost | undefined {
  // The test reaches into the backend's options: the only place the per-run group names exist.
  const host = (sandbox as unknown as { o?: { cgroups?: CgroupHost } }).o?.cgroups;
  if (!host) return undefined;
  const create = host.create.bind(host);
  host.create = async (name, limits) => {
    createdGroups.push(name);
    return create(name, limits);
  };
  return host;
}

/**
 * Connects to each `[host, port]` and says what happened: `connected` (with what the server
 * said within 300 ms), an error code, or `timeout`. Runs as `node -e PROBE '<json>'`, inside the
 * sandbox and, as the control, on the host.
 */
const PROBE = `
const net = require('net');
const targets = JSON.parse(process.argv[1]);
Promise.all(targets.map(([host, port]) => new Promise((done) => {
  const s = net.connect({ host, port });
  let data = '';
  let connected = false;
  const finish = (what) => { clearTimeout(t); s.destroy(); done([host + ':' + port, what]); };
  const t = setTimeout(() => finish(connected ? 'connected ' + data : 'timeout'), 2000);
  s.on('connect', () => { connected = true; s.write('GET / HTTP/1.0\\r\\n\\r\\n'); setTimeout(() => finish('connected ' + data), 300); });
  s.on('data', (d) => { data += d; });
  s.on('error', (e) => finish(connected ? 'connected ' + data : e.code));
}))).then((r) => console.log(JSON.stringify(Object.fromEntries(r))));
`;
type Probe = Record<string, string>;

function probeOnHost(targets: Array<[string, number]>): Promise<Probe> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', PROBE, JSON.stringify(targets)], { timeout: 15_000 }, (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout) as Probe)));
  });
}

function parseProbe(r: SandboxResult): Probe {
  const line = r.stdout.trim().split('\n').pop() ?? '';
  assert.ok(line.startsWith('{'), `the probe ran in the sandbox: ${r.output}`);
  return JSON.parse(line) as Probe;
}

/** A process standing in for Pantheon: the secret in its environment, the config dir its cwd. */
let pantheon: ChildProcess;
let http: HttpServer;
let tcp: TcpServer;
let httpPort: number;
let tcpPort: number;
/** The host's own non-loopback IPv4 addresses. */
const hostAddresses = Object.values(os.networkInterfaces())
  .flatMap((l) => l ?? [])
  .filter((a) => a.family === 'IPv4' && !a.internal)
  .map((a) => a.address);

after(async () => {
  pantheon?.kill('SIGKILL');
  http?.close();
  tcp?.close();
  await root.remove();
});

describe('the bubblewrap sandbox, tried as a hostile repository would', { skip }, () => {
  let sandbox: Sandbox;
  let cgroups: CgroupHost | undefined;

  before(async () => {
    if (!resolved.sandbox) assert.fail(`no usable sandbox under CI (${INSTALL}): ${resolved.problem?.message}`);
    sandbox = resolved.sandbox;
    assert.equal(sandbox.backend, 'bubblewrap');
    cgroups = recordGroups(sandbox);
    // Where this process may create cgroups (root, or a delegated v2 subtree), the sandbox must use them.
    if (await findCgroupHost()) assert.ok(cgroups, 'cgroups are available here, so the sandbox uses them');
    pantheon = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { cwd: configDir, env: { ...process.env, PANTHEON_TEST_SECRET: SECRET }, stdio: 'ignore' });
    http = createHttpServer((_req, res) => res.end(`the API token is ${SECRET}\n`));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    httpPort = (http.address() as AddressInfo).port;
    // On every interface: reachable through each of the host's own addresses.
    tcp = createTcpServer((socket) => socket.end(`redis secret ${SECRET}\n`));
    await new Promise<void>((r) => tcp.listen(0, '0.0.0.0', r));
    tcpPort = (tcp.address() as AddressInfo).port;
  });

  const spec = (argv: string[], over: Partial<SandboxSpec> = {}): SandboxSpec => ({ argv, workspace, cwd: workspace, home, network: 'none', timeoutMs: 30_000, ...over });
  const sh = (script: string, over: Partial<SandboxSpec> = {}) => sandbox.run(spec(['/bin/bash', '-c', script], over));
  const noSecret = (r: SandboxResult) => {
    assert.ok(!r.output.includes(SECRET) && !r.stdout.includes(SECRET) && !r.stderr.includes(SECRET), `the secret leaked: ${r.output}`);
  };

  test("/proc: only the sandbox's own processes; no other process's environ or cwd", async () => {
    // Control: on the host, the stand-in's environ and cwd give the secret away.
    assert.match(readFileSync(`/proc/${pantheon.pid}/environ`, 'utf8'), new RegExp(SECRET));
    assert.match(readFileSync(`/proc/${pantheon.pid}/cwd/pantheon.yaml`, 'utf8'), new RegExp(SECRET));
    const r = await sh(
      [
        'echo pids: $(ls /proc | grep -E "^[0-9]+$" | tr "\\n" " ")',
        `cat /proc/${pantheon.pid}/environ /proc/${process.pid}/environ && echo READ-ENVIRON`,
        `cat /proc/${pantheon.pid}/cwd/pantheon.yaml /proc/${process.pid}/cwd/package.json && echo READ-CWD`,
        // Reversed, as the script did to get past output scrubbing.
        'for f in /proc/[0-9]*/environ; do cat $f | tr "\\0" "\\n" | rev; done',
        'echo own-home: $(cat /proc/self/environ | tr "\\0" "\\n" | grep ^HOME=)',
      ].join('; '),
    );
    noSecret(r);
    assert.ok(!r.output.includes([...SECRET].reverse().join('')), 'nor reversed');
    assert.doesNotMatch(r.output, /READ-ENVIRON|READ-CWD/);
    const pids = /pids: ([\d ]*)/.exec(r.stdout)?.[1]?.trim().split(' ') ?? [];
    assert.ok(pids.length > 0 && pids.length <= 6, `a handful of the sandbox's own pids, not the host's: ${pids.join(' ')}`);
    assert.ok(!pids.includes(String(pantheon.pid)) && !pids.includes(String(process.pid)));
    assert.match(r.stdout, new RegExp(`own-home: HOME=${home}`), 'its own environ is readable');
  });

  test("the data dir, config and persona files, the invoking user's home and ~/.ssh are not there", async () => {
    const userHome = os.homedir();
    const r = await sh(
      [
        ...[...dataSecrets, configFile, personaFile, join(userHome, '.ssh', 'id_ed25519'), join(userHome, '.ssh', 'id_rsa'), join(userHome, '.bash_history')].map(
          (f) => `cat ${f} && echo "READ ${f}"`,
        ),
        ...[`${dataDir}/pglite`, configDir, userHome, `${userHome}/.ssh`, '/home', '/root', '/etc/shadow', '/etc/ssh/ssh_host_ed25519_key', '/run'].map(
          (p) => `ls -A ${p} >/dev/null 2>&1 && echo "LISTED ${p}"`,
        ),
        `grep -rsl -D skip ${SECRET} / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev --exclude-dir=usr && echo FOUND`,
        'echo data-dir: $(ls -A ' + dataDir + ' | tr "\\n" " ")',
        'cat package.json',
        `echo from-home > ${home}/.npmrc && cat ${home}/.npmrc`,
      ].join('; '),
    );
    noSecret(r);
    assert.doesNotMatch(r.stdout, /READ |LISTED|FOUND/);
    // Of the data dir, only the path down to the workspace and HOME exists, as empty directories.
    assert.match(r.stdout, /^data-dir: workspaces$/m);
    assert.match(r.stdout, /"name":"acme-api"/, 'the workspace is readable');
    assert.match(r.stdout, /from-home/, 'HOME is writable');
  });

  test("writes outside the workspace fail; inside, files land on the host as Pantheon's user", async () => {
    const r = await sh(
      [
        ...['/usr/local/bin/evil', '/etc/evil', '/evil', '/var/lib/evil', `${configDir}/evil`, join(os.homedir(), 'evil'), `${dataDir}/evil`].map(
          (f) => `echo x > ${f} 2>/dev/null && echo "WROTE ${f}"`,
        ),
        'echo hello > built.txt && mkdir -p dist && echo ok > dist/out.js && echo WROTE-WORKSPACE',
      ].join('; '),
    );
    // The data dir's path is in the private /tmp here (the temp dir is under /tmp): a write may
    // land there, but never on the host.
    assert.deepEqual(r.stdout.match(/WROTE \S+/g)?.filter((w) => !w.startsWith(`WROTE ${dataDir}`)) ?? [], []);
    for (const f of ['/usr/local/bin/evil', '/etc/evil', '/evil', '/var/lib/evil', `${configDir}/evil`, join(os.homedir(), 'evil'), `${dataDir}/evil`]) {
      assert.ok(!existsSync(f), `${f} must not exist on the host`);
    }
    assert.match(r.stdout, /WROTE-WORKSPACE/);
    const st = statSync(join(workspace, 'dist', 'out.js'));
    assert.equal(st.uid, process.getuid!());
    assert.equal(st.gid, process.getgid!());
    assert.equal(readFileSync(join(workspace, 'built.txt'), 'utf8'), 'hello\n');
  });

  test("network none: neither the host's services nor names outside; its own loopback works", async () => {
    const targets: Array<[string, number]> = [['127.0.0.1', httpPort], ...hostAddresses.map((a): [string, number] => [a, tcpPort])];
    const control = await probeOnHost(targets);
    for (const [target, what] of Object.entries(control)) assert.match(what, new RegExp(`^connected .*${SECRET}`, 's'), `control: the host reaches ${target}`);
    const r = await sandbox.run(spec(['/usr/bin/node', '-e', PROBE, JSON.stringify(targets)]));
    noSecret(r);
    for (const [target, what] of Object.entries(parseProbe(r))) assert.doesNotMatch(what, /^connected/, `${target} from the sandbox`);
    const dns = await sh("getent hosts registry.npmjs.org && echo RESOLVED; node -e \"require('dns').lookup('registry.npmjs.org', (e, a) => console.log(e ? 'lookup ' + e.code : 'RESOLVED ' + a))\"");
    assert.doesNotMatch(dns.stdout, /RESOLVED/);
    assert.match(dns.stdout, /lookup E/);
    await ownLoopbackWorks('none');
  });

  /** A test server on the sandbox's own 127.0.0.1 answers (tests that listen on localhost work). */
  async function ownLoopbackWorks(network: SandboxNetwork): Promise<void> {
    const r = await sandbox.run(
      spec(
        [
          '/usr/bin/node',
          '-e',
          `
      const http = require('http');
      const s = http.createServer((q, a) => a.end('inside')).listen(0, '127.0.0.1', () => {
        http.get({ host: '127.0.0.1', port: s.address().port }, (res) => { res.on('data', (d) => console.log('got ' + d)); res.on('end', () => s.close()); });
      });`,
        ],
        { network },
      ),
    );
    assert.match(r.stdout, /got inside/, `own loopback with network ${network}: ${r.output}`);
  }

  test("network egress: the host's loopback services, its own addresses, slirp's host alias and metadata are unreachable", async () => {
    const local: Array<[string, number]> = [
      ['127.0.0.1', httpPort],
      ['127.0.0.1', tcpPort],
      ['127.0.0.1', 5432],
      ['127.0.0.1', 6379],
    ];
    const targets: Array<[string, number]> = [
      ...local,
      ['10.0.2.2', httpPort],
      ['10.0.2.2', tcpPort],
      ['10.0.2.2', 5432],
      ['10.0.2.2', 6379],
      ...hostAddresses.flatMap(
        (a): Array<[string, number]> => [
          [a, tcpPort],
          [a, 22],
        ],
      ),
      ['169.254.169.254', 80],
      ['169.254.170.2', 80],
    ];
    const control = await probeOnHost([...local, ...hostAddresses.map((a): [string, number] => [a, tcpPort])]);
    assert.match(control[`127.0.0.1:${httpPort}`]!, new RegExp(`^connected .*${SECRET}`, 's'), 'control: the host reaches its HTTP server');
    for (const a of hostAddresses) assert.match(control[`${a}:${tcpPort}`]!, /^connected/, `control: the host reaches ${a}`);
    for (const port of [5432, 6379]) {
      if (!control[`127.0.0.1:${port}`]!.startsWith('connected')) console.log(`# note: nothing listens on the host's 127.0.0.1:${port}; its test is weaker`);
    }
    const r = await sandbox.run(spec(['/usr/bin/node', '-e', PROBE, JSON.stringify(targets)], { network: 'egress' }));
    noSecret(r);
    const seen = parseProbe(r);
    assert.equal(Object.keys(seen).length, new Set(targets.map(([h, p]) => `${h}:${p}`)).size);
    for (const [target, what] of Object.entries(seen)) assert.doesNotMatch(what, /^connected/, `${target} from the sandbox`);
    // The host's own addresses and link-local are refused at once by the sandbox's routes.
    for (const a of [...hostAddresses, '10.0.2.2', '169.254.169.254']) assert.match(seen[`${a}:${a === '169.254.169.254' ? 80 : a === '10.0.2.2' ? 5432 : tcpPort}`]!, /EHOSTUNREACH|ENETUNREACH/, a);
    await ownLoopbackWorks('egress');
  });

  test('network egress: the outside world is reachable (the npm registry)', async (t) => {
    const url = 'https://registry.npmjs.org/is-number';
    const fromHost = await fetch(url, { signal: AbortSignal.timeout(15_000) }).then(
      async (res) => (await res.arrayBuffer(), res.status),
      (err: Error) => `${err.message} ${(err.cause as Error | undefined)?.message ?? ''}`,
    );
    if (fromHost !== 200) {
      const why = `${url} is not reachable from this host either (${fromHost})`;
      if (CI) assert.fail(why);
      t.skip(why);
      return;
    }
    // The same trust store as this process (a TLS-inspecting proxy's CA, say), where the sandbox can see it.
    const ca = process.env.NODE_EXTRA_CA_CERTS;
    const env = ca && /^\/(etc|usr)\//.test(ca) ? { NODE_EXTRA_CA_CERTS: ca } : undefined;
    const r = await sandbox.run(
      spec(
        [
          '/usr/bin/node',
          '-e',
          `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(20000) }).then(async (r) => console.log('status ' + r.status + ' ' + (await r.json()).name), (e) => console.log('failed ' + e.message + ' ' + (e.cause && (e.cause.code || e.cause.message))))`,
        ],
        { network: 'egress', env },
      ),
    );
    assert.match(r.stdout, /status 200 is-number/, r.output);
  });

  test('a fork bomb is stopped at the process limit within seconds; the host keeps spawning', async () => {
    const started = Date.now();
    const r = await sh(':(){ :|:& };:; sleep 60');
    assert.equal(r.limit, 'processes', `${r.limitMessage} ${r.code} ${r.output.slice(-500)}`);
    assert.match(r.limitMessage!, /more than 64 processes/);
    assert.ok(Date.now() - started < 15_000, `stopped in ${Date.now() - started} ms`);
    assert.equal(execFileSync('/bin/echo', ['host ok'], { encoding: 'utf8' }), 'host ok\n');
    const again = await sh('echo sandbox ok');
    assert.equal(again.stdout, 'sandbox ok\n');
    assert.equal(again.limit, undefined);
  });

  test('a memory hog is stopped at the memory limit; a modest allocation works', async () => {
    const ok = await sandbox.run(spec(['/usr/bin/node', '-e', 'const b = Buffer.alloc(64 << 20, 1); console.log("allocated " + b.length)']));
    assert.equal(ok.stdout, `allocated ${64 * MB}\n`);
    assert.equal(ok.limit, undefined);
    const r = await sandbox.run(spec(['/usr/bin/node', '-e', 'const a = []; for (;;) a.push(Buffer.alloc(16 << 20, 1));']));
    assert.equal(r.limit, 'memory', `${r.code} ${r.signal} ${r.output.slice(-500)}`);
    assert.match(r.limitMessage!, /256 MB/);
  });

  test('a timeout stops the command and everything it started; no sleeper survives on the host', async () => {
    // Tagged through the environment, so another run's sleepers (a parallel test) are not counted.
    const tag = randomBytes(8).toString('hex');
    const before = sleepers(tag);
    assert.deepEqual(before, []);
    const running = sh('sleep 1000 & sleep 1000', { timeoutMs: 1500, env: { SLEEPER_TAG: tag } });
    // Control: while it runs, its sleepers are there to be found on the host.
    const during = await new Promise<string[]>((res) => setTimeout(() => res(sleepers(tag)), 900));
    assert.equal(during.length, 2, 'both sleepers seen on the host while they run');
    const started = await running;
    assert.equal(started.limit, 'timeout');
    assert.deepEqual(await gone(() => sleepers(tag)), [], 'no `sleep 1000` left running');
    // Sleepers that leave the session, close their output and ignore signals go too.
    const r = await sh('sleep 1000 & setsid sleep 1000 </dev/null >/dev/null 2>&1 & (trap "" HUP TERM; sleep 1000) & sleep 1000', { timeoutMs: 1500, env: { SLEEPER_TAG: tag } });
    assert.equal(r.limit, 'timeout');
    assert.equal(r.timedOut, true);
    assert.ok(r.durationMs < 6000, `stopped after ${Math.round(r.durationMs)} ms`);
    assert.deepEqual(await gone(() => sleepers(tag)), [], 'no `sleep 1000` left running');
    const ok = await sh('sleep 0.2; echo done', { timeoutMs: 10_000 });
    assert.equal(ok.stdout, 'done\n');
  });

  test('writing past the disk quota is stopped; writing within it works', async () => {
    try {
      const ok = await sh('head -c 20971520 /dev/zero > within.bin && echo wrote', { diskQuotaBytes: 50 * MB });
      assert.equal(ok.stdout, 'wrote\n');
      assert.equal(ok.limit, undefined);
      await rm(join(workspace, 'within.bin'));
      const r = await sh('i=0; while :; do head -c 10485760 /dev/zero > fill-$i.bin || exit 1; i=$((i+1)); done', { diskQuotaBytes: 50 * MB, timeoutMs: 60_000 });
      assert.equal(r.limit, 'disk', `${r.code} ${r.output.slice(-300)}`);
      assert.match(r.limitMessage!, /disk quota of 50 MB/);
      // One file past the quota is refused by the file size limit at once.
      const one = await sh('head -c 62914560 /dev/zero > one.bin', { diskQuotaBytes: 50 * MB });
      assert.equal(one.limit, 'disk', `${one.code} ${one.signal} ${one.output}`);
      assert.ok(statSync(join(workspace, 'one.bin')).size <= 50 * MB);
    } finally {
      for (const f of await readdir(workspace)) if (f.endsWith('.bin')) await rm(join(workspace, f), { force: true });
    }
  });

  test('making files past the file quota is stopped (inodes fill a disk too); a few files are fine', async () => {
    try {
      const ok = await sh('mkdir few && cd few && i=0; while [ $i -lt 100 ]; do : > f$i; i=$((i+1)); done; echo made', { diskQuotaFiles: 2000 });
      assert.equal(ok.limit, undefined);
      assert.match(ok.stdout, /made/);
      const r = await sh('mkdir many && cd many && i=0; while :; do : > f$i; i=$((i+1)); done', { diskQuotaFiles: 2000, timeoutMs: 60_000 });
      assert.equal(r.limit, 'disk', `${r.code} ${r.output.slice(-300)}`);
      assert.match(r.limitMessage!, /more than 2000 files and directories/);
    } finally {
      await rm(join(workspace, 'few'), { recursive: true, force: true });
      await rm(join(workspace, 'many'), { recursive: true, force: true });
    }
  });

  test('a child stopped by the per-file limit while the script goes on is named as the disk quota', async () => {
    try {
      const r = await sh('head -c 62914560 /dev/zero > one.bin; echo carried on', { diskQuotaBytes: 50 * MB });
      assert.match(r.stdout, /carried on/);
      assert.equal(r.limit, 'disk', `${r.code} ${r.output}`);
      assert.match(r.limitMessage!, /reached the workspace's disk quota of 50 MB/);
    } finally {
      await rm(join(workspace, 'one.bin'), { force: true });
    }
  });

  test("new user namespaces are refused (seccomp), so the kernel's namespace code is out of reach", async () => {
    const r = await sh('unshare -Ur id; echo "rc=$?"; unshare -U true; echo "rc2=$?"; sh -c "echo forks fine"');
    assert.match(r.output, /unshare failed: Operation not permitted/);
    assert.match(r.stdout, /^rc=1$/m);
    assert.match(r.stdout, /^rc2=1$/m);
    assert.match(r.stdout, /forks fine/);
  });

  test('the i386 entry point (int 0x80) cannot get around the filter on x86_64', async (t) => {
    if (process.arch !== 'x64') return t.skip('x86_64 only');
    const gcc = ['/usr/bin/gcc', '/usr/bin/cc'].find((c) => existsSync(c));
    if (!gcc) {
      if (CI) assert.fail('no C compiler to build the probe');
      return t.skip('no C compiler (apt-get install gcc)');
    }
    const src = join(root.path, 'int80.c');
    await writeFile(src, '#include <stdio.h>\nint main(void){long r;__asm__ volatile("int $0x80":"=a"(r):"a"(310),"b"(0x10000000):"memory");printf("int80=%ld\\n",r);return 0;}\n');
    execFileSync(gcc, ['-O0', '-o', join(workspace, 'int80'), src]);
    try {
      const r = await sh('./int80; grep CapEff /proc/self/status');
      assert.match(r.stdout, /^int80=-38$/m, r.output); // ENOSYS: the i386 ABI gets nothing
      assert.match(r.stdout, /^CapEff:\s+0+$/m);
    } finally {
      await rm(join(workspace, 'int80'), { force: true });
    }
  });

  test('/dev is read-only apart from its devices and a size-limited /dev/shm', async () => {
    const r = await sh('echo x > /dev/null && echo null-ok; touch /dev/junk 2>/dev/null && echo dev-writable; echo shm > /dev/shm/s && cat /dev/shm/s; df -k /dev/shm | tail -1');
    assert.match(r.stdout, /null-ok/);
    assert.doesNotMatch(r.stdout, /dev-writable/);
    assert.match(r.stdout, /^shm$/m);
    const sizeKb = Number(r.stdout.trim().split('\n').pop()!.split(/\s+/)[1]);
    assert.ok(sizeKb > 0 && sizeKb <= 64 * 1024, `/dev/shm is ${sizeKb} kB`);
  });

  test('endless output is stopped at the output limit; ordinary output is whole', async () => {
    const ok = await sh('seq 1 1000');
    assert.equal(ok.stdout.split('\n').length, 1001);
    assert.equal(ok.limit, undefined);
    const r = await sh('yes');
    assert.equal(r.limit, 'output');
    assert.match(r.limitMessage!, /more than 1 MB of output/);
    assert.ok(r.output.length < 100_000, 'the persona gets the head and the tail, not megabytes');
  });

  test('CPU time: a spinning process is stopped with SIGXCPU and the limit named', async () => {
    const cpu = await resolveSandbox(sandboxConfig({ cpuSeconds: 1 }), { dataDir });
    assert.ok(cpu.sandbox, cpu.problem?.message);
    recordGroups(cpu.sandbox);
    const r = await cpu.sandbox.run(spec(['/usr/bin/node', '-e', 'for (;;) {}']));
    assert.equal(r.limit, 'cpu', `${r.code} ${r.signal} ${r.output}`);
    assert.match(r.limitMessage!, /1 s of CPU time/);
  });

  for (const network of ['none', 'egress'] as const) {
    test(`no capabilities (network ${network}): routes, mounts and new namespaces reveal nothing`, async () => {
      const r = await sh(
        [
          'grep -E "^Cap(Eff|Bnd|Prm|Amb)" /proc/self/status',
          'ip route add 203.0.113.0/24 dev lo 2>/dev/null && echo ROUTE-ADDED',
          'ip route del unreachable 169.254.0.0/16 2>/dev/null && echo ROUTE-DELETED',
          'ip link set lo down 2>/dev/null && echo LINK-DOWN',
          `mount -t tmpfs x /tmp 2>/dev/null && echo MOUNTED; mount --bind / /tmp 2>/dev/null && echo BOUND`,
          `unshare -Urm sh -c 'umount -l /tmp; umount -l /; cat ${dataSecrets[0]} ${configFile}; ls ${os.homedir()}' 2>/dev/null && echo UNSHARED`,
          `unshare -Urn sh -c 'ip route del unreachable 169.254.0.0/16' 2>/dev/null && echo NS-ROUTE`,
          'echo checked',
        ].join('; '),
        { network },
      );
      noSecret(r);
      for (const line of r.stdout.split('\n').filter((l) => l.startsWith('Cap'))) assert.match(line, /^Cap\w+:\s+0{16}$/, line);
      assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('Cap')).length, 4);
      assert.doesNotMatch(r.stdout, /ROUTE-ADDED|ROUTE-DELETED|LINK-DOWN|MOUNTED|BOUND|UNSHARED|NS-ROUTE/);
      assert.match(r.stdout, /checked/);
      if (network === 'egress') {
        const routes = await sh('ip route', { network });
        assert.match(routes.stdout, /unreachable 169\.254\.0\.0\/16/, 'the denied routes are still there');
        assert.match(routes.stdout, /default via 10\.0\.2\.2 dev tap0/);
      }
    });
  }

  test("the environment: PATH, HOME, LANG, CI, TMPDIR, USER and the spec's own; none of Pantheon's", async () => {
    for (const network of ['none', 'egress'] as const) {
      const r = await sandbox.run(spec(['/usr/bin/env'], { network, env: { NPM_CONFIG_CACHE: `${home}/.npm` } }));
      const vars = Object.fromEntries(
        r.stdout
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      // The shell of the egress step adds PWD; it says nothing about the host.
      const names = Object.keys(vars)
        .filter((k) => k !== 'PWD')
        .sort();
      assert.deepEqual(names, ['CI', 'HOME', 'LANG', 'NPM_CONFIG_CACHE', 'PATH', 'TMPDIR', 'USER'], `network ${network}: ${r.stdout}`);
      assert.equal(vars.HOME, home);
      assert.equal(vars.NPM_CONFIG_CACHE, `${home}/.npm`);
      noSecret(r);
      assert.ok(!r.stdout.includes(process.env.HOME ?? '\0\0'), 'not the host HOME');
    }
  });

  test('passthrough(): its argv pipes standard input and output, with no network', async () => {
    const echo = await sandbox.passthrough({ argv: ['cat'], workspace, cwd: workspace, home });
    try {
      assert.equal(await runArgv(echo.argv, 'through the sandbox\n'), 'through the sandbox\n');
    } finally {
      await echo.dispose();
    }
    const targets: Array<[string, number]> = [['127.0.0.1', httpPort], ...hostAddresses.map((a): [string, number] => [a, tcpPort])];
    const net = await sandbox.passthrough({
      argv: ['/bin/sh', '-c', `grep -c : /proc/net/dev; ls /proc | grep -cE "^[0-9]+$"; /usr/bin/node -e "$1" "$2"`, 'sh', PROBE, JSON.stringify(targets)],
      workspace,
      cwd: workspace,
      home,
    });
    try {
      const out = await runArgv(net.argv, '');
      assert.ok(!out.includes(SECRET));
      const [interfaces, pids, probe] = out.trim().split('\n');
      assert.equal(interfaces, '1', 'only lo');
      assert.ok(Number(pids) <= 6, `its own processes only: ${pids}`);
      for (const [target, what] of Object.entries(JSON.parse(probe!) as Probe)) assert.doesNotMatch(what, /^connected/, target);
    } finally {
      await net.dispose();
    }
  });

  test('no cgroup is left behind by the runs', async () => {
    if (!cgroups) {
      console.log('# note: no cgroups here (rlimits only); nothing to check');
      return;
    }
    assert.ok(createdGroups.length >= 10, `the runs used cgroups: ${createdGroups.length}`);
    // Groups are removed just after each result is returned: give the last ones a moment.
    const left = () =>
      cgroups!.roots.flatMap((r) =>
        readdirSync(r)
          .filter((d) => createdGroups.includes(d))
          .map((d) => join(r, d)),
      );
    for (let i = 0; i < 50 && left().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(left(), []);
  });
});

/** Pids of host processes running exactly `sleep 1000` with SLEEPER_TAG=`tag`. */
function sleepers(tag: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8') === 'sleep\u00001000\u0000' && readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(`SLEEPER_TAG=${tag}`);
      } catch {
        return false;
      }
    });
}

/** What `list` finds once it is empty or a second has passed (the kernel ends a PID namespace's processes as its first one exits). */
async function gone(list: () => string[]): Promise<string[]> {
  let left = list();
  for (let i = 0; i < 10 && left.length > 0; i++) {
    await new Promise((res) => setTimeout(res, 100));
    left = list();
  }
  return left;
}

/** Runs a passthrough argv as git would: pipes on every stdio, input written, stdout returned. */
function runArgv(argv: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: {} });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`exit ${code}: ${err}`));
    });
    child.stdin.end(input);
  });
}
