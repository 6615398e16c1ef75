import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { policySchema } from '../../core/config/policy.js';
import { ToolGuard } from '../../tools/guard.js';
import type { PantheonTool } from '../../tools/types.js';
import { CommandPolicy } from '../../tools/infra/command-policy.js';
import { parseHealth, summariseHealth } from '../../tools/infra/health.js';
import { HostRegistry } from '../../tools/infra/hosts.js';
import { entryMatches, fingerprint, parseKnownHosts, verifyHostKey } from '../../tools/infra/known-hosts.js';
import { httpProbe } from '../../tools/infra/probes.js';
import { ProbeTargetGuard } from '../../tools/infra/target-guard.js';
import { runQuick } from '../../tools/infra/remote-exec.js';
import { everyMs } from '../../core/config/schedules.js';
import { HostKeyError, SshPool } from '../../tools/infra/ssh-pool.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

const policy = (p: Partial<{ allow: string[]; deny: string[]; risk: 'read' | 'write' | 'destructive' | 'infra' }> = {}) => new CommandPolicy({ allow: [], deny: [], risk: 'infra', ...p });

describe('command policy', () => {
  test('read-only commands run without approval; anything else has the host risk', () => {
    const p = policy();
    for (const c of ['uptime', 'df -h', 'free -m', 'docker ps', 'docker ps -a', 'systemctl status nginx', 'systemctl status api.service --no-pager']) {
      assert.deepEqual(p.classify(c), { kind: 'read' }, c);
    }
    for (const c of ['systemctl restart nginx', 'docker restart api', 'rm -rf /tmp/x', 'reboot']) {
      assert.deepEqual(p.classify(c), { kind: 'risky', risk: 'infra' }, c);
    }
  });

  test('chaining, redirects and substitutions never pass as read-only', () => {
    const p = policy({ allow: ['cat /var/log/*'] });
    for (const c of ['df -h; rm -rf /', 'uptime && reboot', 'df -h | sh', 'df -h > /etc/passwd', 'df $(reboot)', 'uptime `reboot`', 'cat /var/log/x; reboot']) {
      assert.equal(p.classify(c).kind, 'risky', c);
    }
    assert.deepEqual(p.classify('cat /var/log/syslog'), { kind: 'read' }, 'an allow pattern adds a read-only command');
  });

  test('deny patterns refuse outright, also inside compound commands', () => {
    const p = policy({ deny: ['rm -rf *', '/^shutdown\\b/'] });
    assert.deepEqual(p.classify('rm -rf /var'), { kind: 'deny', pattern: 'rm -rf *' });
    assert.deepEqual(p.classify('uptime; rm -rf /'), { kind: 'deny', pattern: 'rm -rf *' });
    assert.deepEqual(p.classify('echo $(shutdown -h now)'), { kind: 'deny', pattern: '/^shutdown\\b/' });
    assert.deepEqual(p.riskOf('rm -rf /', 'prod-1'), { refuse: 'the command policy of host prod-1 refuses commands matching "rm -rf *".' });
  });

  test('the tool guard takes the risk from the arguments (riskFor), and refuses unasked', async () => {
    const guard = new ToolGuard({
      policy: policySchema.parse({}),
      approvals: {
        hasApprovers: () => false,
        request: async () => {
          throw new Error('asked');
        },
        get: async () => undefined,
      },
    });
    const ran: string[] = [];
    const p = policy({ deny: ['reboot'] });
    const tool: PantheonTool = {
      name: 'run_command',
      description: '',
      risk: 'infra',
      schema: policySchema,
      riskFor: (args: { command: string }) => p.riskOf(args.command, 'box'),
      run: async (args: { command: string }) => {
        ran.push(args.command);
        return 'ok';
      },
    };
    const call = { id: 'c1', threadId: 'local:t', platform: 'local', persona: 'hephaestus', runId: 'r' };
    assert.equal(await guard.run(tool, { command: 'df -h' }, call), 'ok');
    assert.match(await guard.run(tool, { command: 'reboot' }, call), /^Not run: the command policy of host box refuses/);
    assert.match(await guard.run(tool, { command: 'systemctl restart x' }, call), /needs a human's approval/);
    assert.deepEqual(ran, ['df -h']);
  });
});

describe('known_hosts', () => {
  const key = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), randomBytes(32)]);
  const other = Buffer.concat([key.subarray(0, 19), randomBytes(32)]);
  const salt = randomBytes(20);
  const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('[10.0.0.5]:2222').digest('base64')}`;

  test('host patterns: plain, [host]:port, wildcards, negation, hashed names', () => {
    assert.ok(entryMatches('staging.example.com,10.0.0.5', '10.0.0.5'));
    assert.ok(entryMatches('[10.0.0.5]:2222', '[10.0.0.5]:2222'));
    assert.ok(!entryMatches('10.0.0.5', '[10.0.0.5]:2222'), 'port 22 entries do not cover other ports');
    assert.ok(entryMatches('*.example.com,!bad.example.com', 'ok.example.com'));
    assert.ok(!entryMatches('*.example.com,!bad.example.com', 'bad.example.com'));
    assert.ok(entryMatches(hashed, '[10.0.0.5]:2222'));
    assert.ok(!entryMatches(hashed, '[10.0.0.6]:2222'));
  });

  test('known key passes; unknown and changed keys are refused with what to check; revoked keys are refused', () => {
    const file = '/etc/pantheon/known_hosts';
    const entries = parseKnownHosts(`# comment\n${hashed} ssh-ed25519 ${key.toString('base64')}\n@revoked * ssh-ed25519 ${other.toString('base64')}\n`);
    const at = { host: 'staging-1', address: '10.0.0.5', port: 2222, file };
    assert.deepEqual(verifyHostKey(entries, { ...at, key }), { ok: true });
    const unknown = verifyHostKey(entries, { ...at, address: '10.0.0.9', key });
    assert.equal(unknown.ok, false);
    assert.match((unknown as { message: string }).message, /not in \/etc\/pantheon\/known_hosts.*ssh-keyscan -p 2222 10\.0\.0\.9 >> \/etc\/pantheon\/known_hosts/);
    const third = Buffer.concat([key.subarray(0, 19), randomBytes(32)]);
    const changed = verifyHostKey(entries, { ...at, key: third });
    assert.equal(changed.ok, false);
    assert.match(
      (changed as { message: string }).message,
      new RegExp(`CHANGED.*presented ssh-ed25519 ${fingerprint(third).replace(/[+/]/g, '.')}.*expects ssh-ed25519 ${fingerprint(key).replace(/[+/]/g, '.')}`),
    );
    assert.equal((verifyHostKey(entries, { ...at, key: other }) as { reason: string }).reason, 'revoked');
  });
});

describe('ssh pool against a real sshd', () => {
  let sshd: TestSshd;
  before(async () => {
    sshd = await startSshd();
  });
  after(async () => {
    await sshd?.stop();
  });
  const registry = (knownHosts: string, extra: Record<string, unknown> = {}) =>
    new HostRegistry({
      knownHosts,
      hosts: [{ name: 'box', address: sshd.address, port: sshd.port, user: sshd.user, privateKey: sshd.clientKey, policy: { allow: [], deny: [], risk: 'infra' }, ...extra } as never],
    });

  test('connects lazily, reuses the connection, reconnects when it died, replaces it after its maximum age', async () => {
    const pool = new SshPool({ registry: registry(sshd.knownHosts), maxAgeSeconds: 60 });
    try {
      assert.deepEqual(pool.openHosts(), [], 'nothing connects before it is needed');
      assert.deepEqual((await runQuick(pool, 'box', 'echo one')).lines, ['one']);
      const first = await pool.acquire('box');
      first.release();
      assert.deepEqual((await runQuick(pool, 'box', 'echo two')).lines, ['two']);
      const same = await pool.acquire('box');
      assert.equal(same.client, first.client, 'the connection is reused');
      same.release();
      first.client.end(); // the connection dies under us
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual((await runQuick(pool, 'box', 'echo three')).lines, ['three']);
      const fresh = await pool.acquire('box');
      assert.notEqual(fresh.client, first.client, 'a dead connection is replaced');
      fresh.release();
    } finally {
      await pool.close();
    }
    const aging = new SshPool({ registry: registry(sshd.knownHosts), maxAgeSeconds: 0.3 });
    try {
      const a = await aging.acquire('box');
      a.release();
      await new Promise((r) => setTimeout(r, 400));
      const b = await aging.acquire('box');
      assert.notEqual(b.client, a.client, 'an old connection is replaced');
      b.release();
    } finally {
      await aging.close();
    }
  });

  test('an unknown host key is refused, never accepted; a wrong key in known_hosts is refused as changed', async () => {
    const empty = `${sshd.dir}/empty_known_hosts`;
    writeFileSync(empty, '');
    const pool = new SshPool({ registry: registry(empty) });
    await assert.rejects(runQuick(pool, 'box', 'true'), (err: Error) => err instanceof HostKeyError && /not in .*empty_known_hosts.*ssh-keyscan/.test(err.message));
    assert.equal(readFileSync(empty, 'utf8'), '', 'nothing was added to known_hosts');
    await pool.close();
    const wrong = `${sshd.dir}/wrong_known_hosts`;
    const fake = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), randomBytes(32)]);
    writeFileSync(wrong, `[127.0.0.1]:${sshd.port} ssh-ed25519 ${fake.toString('base64')}\n`);
    const pool2 = new SshPool({ registry: registry(wrong) });
    await assert.rejects(runQuick(pool2, 'box', 'true'), /host key has CHANGED/);
    await pool2.close();
  });

  test('a password from the environment is a registered secret, and a missing one says which variable', () => {
    const reg = new HostRegistry(
      { hosts: [{ name: 'pw', address: '127.0.0.1', port: 22, user: 'x', passwordEnv: 'BOX_PASSWORD', policy: { allow: [], deny: [], risk: 'infra' } }] },
      { BOX_PASSWORD: 'correct-horse-battery' },
    );
    assert.equal(reg.password(reg.get('pw')), 'correct-horse-battery');
    const missing = new HostRegistry({ hosts: [{ name: 'pw', address: '127.0.0.1', port: 22, user: 'x', passwordEnv: 'NOPE', policy: { allow: [], deny: [], risk: 'infra' } }] }, {});
    assert.throws(() => missing.password(missing.get('pw')), /\$NOPE, which is not set/);
    assert.throws(() => missing.get('prod-9'), /unknown host "prod-9".*infra\.hosts \(pw\)/);
  });
});

describe('health, probes and schedules', () => {
  let server: Server;
  let url: string;
  // The fake listens on 127.0.0.1, which probes refuse unless an operator allowlists it.
  const guard = new ProbeTargetGuard({ allowlist: ['127.0.0.0/8'] });
  before(async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === '/down' ? 503 : 200;
      res.end('x');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  test('host health is parsed from /proc, nproc, df -P and free -m and flags full disks', () => {
    const sep = '---pantheon---';
    const h = parseHealth([
      '273600.5 1000.1',
      sep,
      '0.52 0.40 0.30 1/200 1234',
      sep,
      '4',
      sep,
      'Filesystem 1024-blocks Used Available Capacity Mounted on',
      '/dev/vda 100000 93000 7000 93% /',
      '/dev/vdb 200000 20000 180000 10% /data',
      sep,
      '              total        used        free      shared  buff/cache   available',
      'Mem:           3900        1200         800          10        1900        2500',
    ]);
    assert.equal(h.cpus, 4);
    assert.deepEqual(h.load, [0.52, 0.4, 0.3]);
    assert.deepEqual(
      h.disks.map((d) => [d.mount, d.usedPercent]),
      [
        ['/', 93],
        ['/data', 10],
      ],
    );
    const text = summariseHealth('staging-1', h);
    assert.match(text, /^staging-1: up 3 d 4 h · load 0.52 0.4 0.3 on 4 CPUs · memory 36% used/);
    assert.match(text, /disk: \/ 93% \(7 MiB free\) ⚠, \/data 10% \(176 MiB free\)$/);
  });

  test('http probe reports status and latency, and down servers', async () => {
    const up = await httpProbe(`${url}/health`, { guard });
    assert.equal(up.ok, true);
    assert.equal(up.status, 200);
    assert.ok(up.latencyMs >= 0);
    assert.deepEqual([(await httpProbe(`${url}/down`, { guard })).ok, (await httpProbe(`${url}/down`, { guard })).status], [false, 503]);
    const spare = createServer();
    await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
    const port = (spare.address() as { port: number }).port;
    await new Promise<void>((r) => spare.close(() => r()));
    const closed = await httpProbe(`http://127.0.0.1:${port}/`, { guard });
    assert.equal(closed.ok, false);
    assert.match(closed.error ?? '', /ECONNREFUSED/);
  });

  test('schedule intervals', () => {
    assert.deepEqual([everyMs(30), everyMs('45s'), everyMs('5m'), everyMs('1h'), everyMs('2')], [30_000, 45_000, 300_000, 3_600_000, 2000]);
  });
});
