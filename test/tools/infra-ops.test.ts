import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { policySchema } from '../../core/config/policy.js';
import { createLogger } from '../../core/log.js';
import { ToolGuard } from '../../tools/guard.js';
import type { PantheonTool } from '../../tools/types.js';
import { HostRegistry } from '../../tools/infra/hosts.js';
import { httpProbe, tlsExpiry } from '../../tools/infra/probes.js';
import { Runbooks } from '../../tools/infra/runbooks.js';
import { ScheduledChecks } from '../../tools/infra/schedule.js';
import { SshPool } from '../../tools/infra/ssh-pool.js';
import { ProbeTargetGuard } from '../../tools/infra/target-guard.js';
import { infraTools } from '../../tools/infra/tools.js';
import { startSshd, writeFakeDocker, type TestSshd } from '../support/sshd.js';

const call = { id: 'c1', threadId: 'local:ops', platform: 'local', persona: 'hephaestus', runId: 'r' };
const listen = (server: Server) => new Promise<string>((r) => server.listen(0, '127.0.0.1', () => r(`127.0.0.1:${(server.address() as AddressInfo).port}`)));
const close = (server: Server) =>
  new Promise((r) => {
    server.closeAllConnections();
    server.close(r);
  });

describe('infra tools on a real sshd with a fake docker CLI', () => {
  let sshd: TestSshd;
  let dir: string;
  let ssh: SshPool;
  let tools: Map<string, PantheonTool>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pantheon-infra-ops-'));
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFakeDocker(bin, dir, [
      { id: '3f4e5a6b7c8d9e0f', name: 'web', image: 'nginx:1.27', command: 'nginx', status: 'Up 3 hours' },
      { id: '9a8b7c6d5e4f3a2b', name: 'worker', image: 'acme/worker:2.1', command: 'node worker.js', status: 'Exited (137) 5 minutes ago' },
    ]);
    sshd = await startSshd({ pathPrefix: [bin] });
    const host = (name: string, policy: object) => ({
      name,
      address: sshd.address,
      port: sshd.port,
      user: sshd.user,
      privateKey: sshd.clientKey,
      policy: { allow: [], deny: [], risk: 'infra', ...policy },
    });
    const hosts = new HostRegistry({
      knownHosts: sshd.knownHosts,
      hosts: [host('box', { deny: ['docker restart db', 'rm -rf *'] }), host('lab', { risk: 'read' })] as never,
    });
    const runbooks = new Runbooks(
      [
        {
          name: 'revive',
          host: 'box',
          steps: [
            { name: 'look', run: 'docker ps -a', idempotent: false },
            { name: 'restart', run: 'docker restart worker', mutating: true, idempotent: false },
            { name: 'note', run: 'logger revived', mutating: false, idempotent: false },
            { name: 'wipe', run: 'rm -rf /srv/cache', idempotent: false },
          ],
        },
      ],
      hosts,
    );
    ssh = new SshPool({ registry: hosts });
    // Jobs are not started here (the e2e test does): only the tools that read at once are run.
    const list = infraTools({ hosts, ssh, runbooks, store: {} as never, runner: {} as never, settings: {} as never })({} as never);
    tools = new Map(list.map((t) => [t.name, t]));
  });

  after(async () => {
    await ssh?.close();
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('docker_status shows name, status and image of every container, exited ones too', async () => {
    const out = await tools.get('docker_status')!.run({ host: 'box' }, call);
    assert.equal(out, 'box: 2 containers\n- web · Up 3 hours · nginx:1.27\n- worker · Exited (137) 5 minutes ago · acme/worker:2.1');
  });

  test('host_health parses real /proc, nproc, df and free output', async () => {
    const out = await tools.get('host_health')!.run({ host: 'box' }, call);
    assert.match(out, /^box: up \d+ (min|h \d+ min|d \d+ h) · load [\d.]+ [\d.]+ [\d.]+ on \d+ CPUs? (⚠ )?· memory \d+% used \([\d.]+ [MG]iB available of [\d.]+ [MG]iB\)( ⚠)? · disk: \/\S* \d+% /);
  });

  test('docker_restart always asks, even where the policy lets infra work run unasked; the host deny list refuses it', async () => {
    const restart = tools.get('docker_restart')!;
    const guard = new ToolGuard({
      policy: policySchema.parse({ risk: { infra: 'allow' } }),
      approvals: {
        hasApprovers: () => false,
        request: async () => {
          throw new Error('no approver store here');
        },
        get: async () => undefined,
      },
      logger: createLogger({ level: 'silent' }),
    });
    assert.match(await guard.run(restart, { host: 'lab', container: 'web' }, call), /needs a human's approval/);
    assert.deepEqual(restart.riskFor!({ host: 'box', container: 'db' }), { refuse: 'the command policy of host box refuses commands matching "docker restart db".' });
    assert.match(await guard.run(restart, { host: 'box', container: 'db' }, call), /^Not run: the command policy of host box refuses/);
  });

  test('run_runbook: the plan, and a risk per step (read, approval, config override, refused)', async () => {
    const runbook = tools.get('run_runbook')!;
    assert.equal(runbook.riskFor!({ runbook: 'revive' }), 'read');
    assert.equal(runbook.riskFor!({ runbook: 'revive', step: 1 }), 'read');
    assert.equal(runbook.riskFor!({ runbook: 'revive', step: 2 }), 'infra');
    assert.equal(runbook.riskFor!({ runbook: 'revive', step: 3 }), 'read', 'mutating: false in the reviewed config makes it a read');
    assert.deepEqual(runbook.riskFor!({ runbook: 'revive', step: 4 }), { refuse: 'the command policy of host box refuses commands matching "rm -rf *".' });
    const plan = await runbook.run({ runbook: 'revive' }, call);
    assert.match(
      plan,
      /^Runbook revive \(4 steps\)\n1\. look — `docker ps -a` on box \(read-only, runs at once\)\n2\. restart — `docker restart worker` on box \(infra: asks for approval\)\n3\. note .*\(read-only, runs at once\)\n4\. wipe — `rm -rf \/srv\/cache` on box \(refused by the host policy\)/,
    );
    await assert.rejects(runbook.run({ runbook: 'revive', step: 5 }, call), /runbook revive has steps 1 to 4, not 5/);
  });
});

describe('probes against local servers', () => {
  let web: Server;
  let at: string;
  let dir: string;
  // The fakes listen on 127.0.0.1, which probes refuse unless an operator allowlists it.
  const guard = new ProbeTargetGuard({ allowlist: ['127.0.0.1'] });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pantheon-probes-'));
    web = createHttpServer((req, res) => {
      if (req.url === '/slow') return setTimeout(() => res.end('late'), 2000);
      res.statusCode = req.url === '/boom' ? 500 : req.url === '/empty' ? 204 : 200;
      res.end();
    });
    at = await listen(web);
  });

  after(async () => {
    await close(web);
    rmSync(dir, { recursive: true, force: true });
  });

  test('http_probe: status and latency; a 500 is down; an expected status; refused and silent servers', async () => {
    const up = await httpProbe(`http://${at}/healthz`, { guard });
    assert.equal(up.ok, true);
    assert.equal(up.status, 200);
    assert.ok(up.latencyMs >= 0 && up.latencyMs < 2000, `latency ${up.latencyMs}`);
    assert.deepEqual({ ...(await httpProbe(`http://${at}/boom`, { guard })), latencyMs: 0 }, { url: `http://${at}/boom`, ok: false, status: 500, latencyMs: 0 });
    assert.equal((await httpProbe(`http://${at}/healthz`, { expectStatus: 204, guard })).ok, false, 'a 200 is not the 204 asked for');
    assert.equal((await httpProbe(`http://${at}/empty`, { expectStatus: 204, guard })).ok, true);
    const closed = createHttpServer();
    const gone = await listen(closed);
    await close(closed);
    const refused = await httpProbe(`http://${gone}/`, { guard });
    assert.equal(refused.ok, false);
    assert.equal(refused.error, 'ECONNREFUSED');
    const silent = await httpProbe(`http://${at}/slow`, { timeoutMs: 300, guard });
    assert.equal(silent.error, 'no answer within 300 ms');
  });

  test('tls_expiry and the scheduled tls check read a real self-signed certificate', async () => {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '10', '-subj', '/CN=probe.test'],
      { stdio: 'ignore' },
    );
    const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_q, s) => s.end());
    const target = await listen(server);
    try {
      const r = await tlsExpiry(`https://${target}/`, { guard });
      assert.ok(r.daysLeft === 9 || r.daysLeft === 10, `days left: ${r.daysLeft}`);
      assert.equal(r.subject, 'probe.test');
      assert.equal(r.trusted, false);
      const checks = new ScheduledChecks({ checks: [], hosts: new HostRegistry({ hosts: [] }), logger: createLogger({ level: 'silent' }), probeGuard: guard } as never);
      const soon = await checks.evaluate({ name: 'cert', path: 'schedules[0]', channel: 'local:ops', resolved: true, check: { kind: 'tls', url: target, threshold: 30 } });
      assert.equal(soon.ok, false);
      assert.match(soon.detail, new RegExp(`^TLS certificate of ${target} expires in (9|10) days \\(\\d{4}-\\d\\d-\\d\\d\\)$`));
      const fine = await checks.evaluate({ name: 'cert', path: 'schedules[0]', channel: 'local:ops', resolved: true, check: { kind: 'tls', url: target, threshold: 5 } });
      assert.equal(fine.ok, true);
    } finally {
      await close(server);
    }
  });
});
