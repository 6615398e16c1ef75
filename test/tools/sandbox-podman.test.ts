/**
 * The container backend against a real engine: podman, which needs no daemon, with an image
 * made here (test/support/podman-image.ts). Commands run in it as in bubblewrap: the workspace
 * and HOME mounted, nothing else of Pantheon's; limits; a timeout that removes the container;
 * network none, or egress with the host, its bridge and link-local unreachable. Skipped, saying
 * what to install, where podman is missing (docker's daemon cannot run here); under CI, where
 * .ci/run installs podman, a missing engine fails.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { pantheonConfigSchema } from '../../core/config/schema.js';
import { resolveSandbox, which } from '../../tools/sandbox/resolve.js';
import type { Sandbox, SandboxSpec } from '../../tools/sandbox/types.js';
import { buildTestImage, TEST_IMAGE } from '../support/podman-image.js';
import { tempDir } from '../support/pantheon-process.js';

const CI = Boolean(process.env.CI) && process.env.CI !== 'false';
const SECRET = `pantheon-podman-secret-${randomBytes(8).toString('hex')}`;
process.env.PANTHEON_TEST_SECRET = SECRET;

const root = await tempDir('pantheon-podman-');
const dataDir = join(root.path, 'data');
const workspace = join(dataDir, 'workspaces', 'apollo', 'acme-api-1');
const home = join(dataDir, 'workspaces', 'apollo', '.homes', 'acme-api-1');
await mkdir(workspace, { recursive: true });
await mkdir(home, { recursive: true });
await writeFile(join(dataDir, 'secret.txt'), SECRET);

// This machine's limits are below podman's default rlimits, and crun refuses hybrid cgroups: an
// operator's containers.conf says so, as one would on such a host.
const conf = join(root.path, 'containers.conf');
await writeFile(conf, `[containers]\ndefault_ulimits = []\n${which('runc') ? '[engine]\nruntime = "runc"\n' : ''}`);
process.env.CONTAINERS_CONF = conf;

const imageProblem = which('podman') ? buildTestImage(root.path) : 'podman is not installed';
const config = pantheonConfigSchema.shape.sandbox.parse({ backend: 'podman', image: TEST_IMAGE, limits: { memoryMb: 64, processes: 32, outputMb: 1, tmpMb: 16 } });
const resolved = imageProblem ? undefined : await resolveSandbox(config, { dataDir });
const why = imageProblem ?? resolved?.problem?.message;
const skip = why && !CI ? `install podman and runc to run these (${why})` : false;

let server: Server;
let port: number;
const hostAddresses = Object.values(os.networkInterfaces())
  .flatMap((l) => l ?? [])
  .filter((a) => a.family === 'IPv4')
  .map((a) => a.address);

after(async () => {
  server?.close();
  await root.remove();
});

describe('the podman backend, with a real engine', { skip }, () => {
  let sandbox: Sandbox;
  before(async () => {
    if (!resolved?.sandbox) assert.fail(`no podman backend under CI: ${why}`);
    sandbox = resolved.sandbox;
    assert.equal(sandbox.backend, 'podman');
    server = createServer((s) => s.end(`secret ${SECRET}\n`));
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
    port = (server.address() as AddressInfo).port;
  });

  const sh = (script: string, over: Partial<SandboxSpec> = {}) => sandbox.run({ argv: ['/bin/sh', '-c', script], workspace, cwd: workspace, home, network: 'none', timeoutMs: 60_000, ...over });
  const containers = () =>
    execFileSync('podman', ['ps', '-a', '--format', '{{.Names}}'], { encoding: 'utf8' })
      .split('\n')
      .filter((n) => n.startsWith('pantheon-sbx-'));

  test("a command runs in the workspace; its files are Pantheon's; it sees no secret of Pantheon's", async () => {
    const r = await sh('echo hello > made.txt; cat made.txt; env; ls /; cat ' + join(dataDir, 'secret.txt') + ' 2>&1; ls ' + dataDir);
    assert.match(r.stdout, /^hello$/m);
    assert.doesNotMatch(r.output, new RegExp(SECRET));
    assert.match(r.output, /No such file/);
    const st = statSync(join(workspace, 'made.txt'));
    assert.equal(st.uid, process.getuid!());
    const env = r.stdout
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => l.split('=')[0])
      .sort();
    assert.ok(!env.includes('PANTHEON_TEST_SECRET'));
    assert.ok(env.includes('CI') && env.includes('HOME'));
  });

  test('no capabilities; the root is read-only; /tmp is private and limited', async () => {
    const r = await sh('cat /proc/self/status; touch /usr/x 2>&1; echo t > /tmp/t && cat /tmp/t; head -c 20000000 /dev/zero > /tmp/big; echo done');
    assert.match(r.stdout, /^CapEff:\s+0+$/m);
    assert.match(r.stdout, /^CapBnd:\s+0+$/m);
    assert.match(r.output, /Read-only file system/);
    assert.match(r.stdout, /^t$/m);
    assert.match(r.output, /No space left on device/);
  });

  test('network none: only loopback', async () => {
    const r = await sh(`ip -o link; curl -sS -m 3 http://${hostAddresses.find((a) => a !== '127.0.0.1') ?? '127.0.0.1'}:${port}/ 2>&1; echo rc=$?`);
    assert.doesNotMatch(r.stdout, /eth0|tap0/);
    assert.doesNotMatch(r.output, new RegExp(SECRET));
    assert.doesNotMatch(r.stdout, /rc=0/);
  });

  test('network egress: the outside world, but not the host (its addresses, the bridge gateway, loopback) nor metadata', async (t) => {
    const targets = ['127.0.0.1', ...hostAddresses.filter((a) => a !== '127.0.0.1')];
    const tries = targets.map((a) => `curl -sS -m 3 http://${a}:${port}/ 2>&1; echo "rc ${a} $?"`).join('; ');
    const r = await sh(
      `ip route; gw=$(ip route show default | { read -r _ _ g _; echo "$g"; }); curl -sS -m 3 http://$gw:${port}/ 2>&1; echo "rc gw $?"; ${tries}; curl -sS -m 3 http://169.254.169.254/ 2>&1; echo "rc meta $?"; curl -sS -m 10 -o /dev/null -w "registry %{http_code}\\n" https://registry.npmjs.org/is-number 2>&1`,
      { network: 'egress' },
    );
    assert.doesNotMatch(r.output, new RegExp(SECRET), r.output);
    assert.doesNotMatch(r.stdout, /^rc \S+ 0$/m, r.output);
    assert.match(r.stdout, /unreachable 169\.254\.0\.0\/16/);
    if (!/registry 200/.test(r.stdout)) {
      if (CI) assert.fail(`the npm registry was not reachable from the container: ${r.output}`);
      t.skip('the npm registry is not reachable from here');
    }
  });

  test('a timeout stops the container and removes it', async () => {
    const r = await sh('sleep 300', { timeoutMs: 3000 });
    assert.equal(r.limit, 'timeout');
    for (let i = 0; i < 50 && containers().length > 0; i++) await new Promise((res) => setTimeout(res, 200));
    assert.deepEqual(containers(), []);
  });

  test('memory past the limit is stopped; output past its limit too', async () => {
    const mem = await sh('x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo survived');
    assert.doesNotMatch(mem.stdout, /survived/);
    assert.equal(mem.limit, 'memory', `${mem.code} ${mem.output}`);
    const out = await sh('yes');
    assert.equal(out.limit, 'output');
  });

  test('a fork bomb is contained by the process limit, and the host keeps working', async () => {
    const r = await sh('f(){ f | f & }; f; sleep 2; echo after', { timeoutMs: 30_000 });
    assert.ok(r.durationMs < 30_000);
    assert.equal(execFileSync('true').length, 0);
    assert.match(await readFile('/proc/loadavg', 'utf8'), /\d/);
  });

  test('passthrough(): stdin to stdout through the container, no network', () => {
    return sandbox.passthrough({ argv: ['/bin/sh', '-c', 'cat; ip -o link'], workspace, cwd: workspace, home }).then(async (p) => {
      const out = execFileSync(p.argv[0]!, p.argv.slice(1), { input: 'piped\n', encoding: 'utf8', env: { ...process.env } });
      await p.dispose();
      assert.match(out, /^piped$/m);
      assert.doesNotMatch(out, /eth0/);
    });
  });
});
