import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pantheonConfigSchema } from '../../core/config/index.js';
import { HostRegistry } from '../../tools/infra/hosts.js';
import { httpProbe, tlsExpiry } from '../../tools/infra/probes.js';
import { ScheduledChecks } from '../../tools/infra/schedule.js';
import { ProbeRefusedError, ProbeTargetGuard, type Resolve } from '../../tools/infra/target-guard.js';
import { infraTools } from '../../tools/infra/tools.js';
import type { PantheonTool } from '../../tools/types.js';

/** A resolver from a table; a name not in it fails the test (no real DNS in these tests). */
const table =
  (answers: Record<string, string[]>, calls: string[] = []): Resolve =>
  async (name) => {
    calls.push(name);
    const found = answers[name];
    if (!found) throw new Error(`unexpected lookup of ${name}`);
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
const noDns: Resolve = async (name) => assert.fail(`no lookup expected, got ${name}`);
const guard = (allowlist: string[] = [], resolve: Resolve = noDns, own: string[] = []) => new ProbeTargetGuard({ allowlist, resolve, ownAddresses: () => own });
const refused = (p: Promise<unknown>, why: RegExp) =>
  assert.rejects(p, (err: Error) => {
    assert.ok(err instanceof ProbeRefusedError, `refused, not: ${err.message}`);
    assert.match(err.message, why);
    assert.match(err.message, /; an operator can allow it with infra\.probeAllowlist in pantheon\.yaml$/);
    return true;
  });

describe('probe target guard: what is refused', () => {
  test('loopback, unspecified, link-local and metadata addresses, in every spelling', async () => {
    const g = guard();
    await refused(g.vet('127.0.0.1', 3000), /^Refused: 127\.0\.0\.1:3000 is on Pantheon's own host \(loopback\)/);
    await refused(g.vet('127.9.9.9', 80), /127\.9\.9\.9:80 is on Pantheon's own host \(loopback\)/);
    await refused(g.vet('::1', 5432), /\[::1\]:5432 is on Pantheon's own host \(loopback\)/);
    await refused(g.vet('[0:0:0:0:0:0:0:1]', 80), /\[::1\]:80 is on Pantheon's own host/);
    await refused(g.vet('0.0.0.0', 6379), /0\.0\.0\.0:6379 is the unspecified address, which reaches Pantheon's own host/);
    await refused(g.vet('::', 80), /\[::\]:80 is the unspecified address/);
    await refused(g.vet('169.254.169.254', 80), /169\.254\.169\.254:80 is link-local \(where cloud metadata services answer\)/);
    await refused(g.vet('169.254.170.2', 80), /link-local/);
    await refused(g.vet('fe80::1', 80), /\[fe80::1\]:80 is link-local/);
    await refused(g.vet('febf::1', 80), /link-local/);
    await refused(g.vet('fd00:ec2::254', 80), /is a cloud metadata address/);
    await refused(g.vet('100.100.100.200', 80), /is a cloud metadata address/);
    await refused(g.vet('::ffff:127.0.0.1', 80), /\[::ffff:7f00:1\]:80 is on Pantheon's own host \(loopback\)/);
    await refused(g.vet('::ffff:a9fe:a9fe', 80), /link-local/);
  });

  test('numeric forms of loopback that new URL normalises: decimal, hex, short, octal, mapped IPv6', async () => {
    const g = guard();
    for (const url of ['http://2130706433/', 'http://0x7f.1/', 'http://127.1/', 'http://0177.0.0.1/', 'http://127.0.0.1./', 'http://[::ffff:7f00:1]/', 'http://[::ffff:127.0.0.1]/', 'http://0/']) {
      await refused(g.vet(new URL(url).hostname, 80), /is (on Pantheon's own host \(loopback\)|the unspecified address)/);
      await refused(httpProbe(url, { guard: g }), /^Refused: /);
    }
    for (const target of ['2130706433', '0x7f.1:443', '127.1:8443', '[::ffff:7f00:1]:443', '::1', 'https://0x7f000001/']) {
      await refused(tlsExpiry(target, { guard: g }), /on Pantheon's own host \(loopback\)/);
    }
  });

  test('names: localhost and metadata names without a lookup; any name resolving to a refused address', async () => {
    await refused(guard().vet('localhost', 3000), /^Refused: localhost:3000 is on Pantheon's own host \(loopback\)/);
    await refused(guard().vet('LOCALHOST.', 3000), /localhost:3000 is on Pantheon's own host/);
    await refused(guard().vet('api.localhost', 80), /api\.localhost:80 is on Pantheon's own host/);
    for (const name of ['metadata.google.internal', 'metadata', 'instance-data', 'Metadata.Google.Internal.']) {
      await refused(guard().vet(name, 80), /is a cloud metadata name/);
    }
    const dns = table({ 'sneaky.example': ['127.0.0.1'], 'meta.example': ['169.254.169.254'], 'v6.example': ['::1'] });
    await refused(guard([], dns).vet('sneaky.example', 8080), /^Refused: sneaky\.example:8080 resolves to 127\.0\.0\.1, on Pantheon's own host \(loopback\)/);
    await refused(guard([], dns).vet('meta.example', 80), /meta\.example:80 resolves to 169\.254\.169\.254, link-local/);
    await refused(guard([], dns).vet('v6.example', 80), /resolves to ::1, on Pantheon's own host/);
  });

  test("the host's own interface addresses are refused, in any form", async () => {
    const g = guard([], table({ 'me.example': ['203.0.113.9'] }), ['10.1.2.3', 'fd12::7', '203.0.113.9']);
    await refused(g.vet('10.1.2.3', 22), /^Refused: 10\.1\.2\.3:22 is one of the addresses of Pantheon's own host/);
    await refused(g.vet('::ffff:10.1.2.3', 22), /one of the addresses of Pantheon's own host/);
    await refused(g.vet('fd12::7', 22), /one of the addresses of Pantheon's own host/);
    await refused(g.vet('me.example', 443), /me\.example:443 resolves to 203\.0\.113\.9, one of the addresses of Pantheon's own host/);
    // The real interfaces by default: this machine's loopback interface is one of them.
    await refused(new ProbeTargetGuard({ resolve: noDns }).vet('127.0.0.1', 1), /loopback/);
  });

  test('private ranges and public addresses are allowed; a name connects to the address checked', async () => {
    const g = guard([], table({ 'staging.internal': ['10.0.0.5'], 'example.com': ['93.184.216.34', '2606:2800:220:1::248'] }));
    for (const address of ['10.0.0.5', '172.16.3.4', '192.168.1.10', 'fd12:3456::1', '93.184.216.34', '2001:db8::1']) {
      const t = await g.vet(address, 80);
      assert.equal(t.address, address);
    }
    assert.deepEqual(await g.vet('staging.internal', 8080), { name: 'staging.internal', port: 8080, address: '10.0.0.5', family: 4 });
    assert.deepEqual(await g.vet('Example.COM.', 443), { name: 'example.com', port: 443, address: '93.184.216.34', family: 4 });
  });

  test('DNS rebinding: refused if any answer is refused; resolved once, and the vetted address is the one used', async () => {
    await refused(guard([], table({ 'rebind.example': ['93.184.216.34', '127.0.0.1'] })).vet('rebind.example', 80), /resolves to 127\.0\.0\.1/);
    await refused(guard([], table({ 'rebind.example': ['93.184.216.34', '::ffff:169.254.169.254'] })).vet('rebind.example', 80), /link-local/);
    // A resolver that answers a public address first and loopback afterwards: only the first answer counts.
    let n = 0;
    const flipping: Resolve = async () => [{ address: n++ === 0 ? '203.0.113.10' : '127.0.0.1', family: 4 }];
    const t = await guard([], flipping).vet('flip.example', 80);
    assert.equal(t.address, '203.0.113.10');
    assert.equal(n, 1, 'resolved exactly once');
  });
});

describe('probe target guard: infra.probeAllowlist', () => {
  test('by name: the name and whatever it resolves to, at any port or at the port given', async () => {
    const dns = table({ localhost: ['127.0.0.1'], 'db.example': ['127.0.0.1'] });
    assert.equal((await guard(['localhost'], dns).vet('localhost', 3000)).address, '127.0.0.1');
    assert.equal((await guard(['db.example:5432'], dns).vet('db.example', 5432)).address, '127.0.0.1');
    await refused(guard(['db.example:5432'], dns).vet('db.example', 5433), /db\.example:5433 resolves to 127\.0\.0\.1/);
    await refused(guard(['localhost'], dns).vet('127.0.0.1', 3000), /127\.0\.0\.1:3000 is on Pantheon's own host/);
    assert.equal((await guard(['metadata.google.internal'], table({ 'metadata.google.internal': ['169.254.169.254'] })).vet('metadata.google.internal', 80)).address, '169.254.169.254');
  });

  test('by address: that address in any spelling, and names resolving to it', async () => {
    const g = guard(['127.0.0.1'], table({ 'app.example': ['127.0.0.1'] }));
    assert.equal((await g.vet('127.0.0.1', 3000)).address, '127.0.0.1');
    assert.equal((await g.vet('2130706433', 3000)).address, '127.0.0.1');
    assert.equal((await g.vet('::ffff:7f00:1', 3000)).address, '::ffff:7f00:1');
    assert.equal((await g.vet('app.example', 9)).address, '127.0.0.1');
    await refused(g.vet('127.0.0.2', 3000), /127\.0\.0\.2:3000/);
    await refused(g.vet('localhost', 3000), /localhost:3000 is on Pantheon's own host/);
    assert.equal((await guard(['::1']).vet('[::1]', 80)).address, '::1');
  });

  test('by host:port: only that port', async () => {
    const g = guard(['127.0.0.1:3000', '[::1]:8443', '169.254.169.254:80']);
    assert.equal((await g.vet('127.0.0.1', 3000)).address, '127.0.0.1');
    await refused(g.vet('127.0.0.1', 3001), /127\.0\.0\.1:3001/);
    assert.equal((await g.vet('::1', 8443)).address, '::1');
    await refused(g.vet('::1', 443), /\[::1\]:443/);
    assert.equal((await g.vet('169.254.169.254', 80)).address, '169.254.169.254');
  });

  test('by CIDR range', async () => {
    const g = guard(['127.0.0.0/8', '169.254.0.0/16', 'fe80::/10', '10.1.2.0/24'], noDns, ['10.1.2.3', '10.9.9.9']);
    for (const address of ['127.0.0.1', '127.200.1.1', '::ffff:127.0.0.1', '169.254.169.254', 'fe80::abcd', '10.1.2.3']) {
      assert.equal((await g.vet(address, 80)).port, 80, address);
    }
    await refused(g.vet('::1', 80), /\[::1\]:80/);
    await refused(g.vet('10.9.9.9', 80), /one of the addresses of Pantheon's own host/);
  });

  test('entries that are none of these are configuration problems', () => {
    const g = guard(['localhost', 'http://127.0.0.1:3000', '10.0.0.0/40', 'host:99999', '[localhost]:80', 'a b']);
    assert.deepEqual(
      g.problems().map((p) => p.path),
      ['infra.probeAllowlist[1]', 'infra.probeAllowlist[2]', 'infra.probeAllowlist[3]', 'infra.probeAllowlist[4]', 'infra.probeAllowlist[5]'],
    );
    assert.match(g.problems()[0]!.problem, /"http:\/\/127\.0\.0\.1:3000" is not a host name, an address, host:port or a CIDR range/);
  });
});

describe('http_probe and the scheduled checks against a real server on 127.0.0.1', () => {
  let server: Server;
  let port: number;
  const seen: IncomingMessage[] = [];

  before(async () => {
    server = createServer((req, res) => {
      seen.push(req);
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );

  const httpProbeTool = (probeAllowlist: string[]): PantheonTool => {
    const { infra } = pantheonConfigSchema.parse({ infra: { probeAllowlist } });
    const probeGuard = new ProbeTargetGuard({ allowlist: infra.probeAllowlist });
    const tools = infraTools({ hosts: new HostRegistry({ hosts: [] }), runbooks: { names: () => [] }, settings: { timeoutSeconds: 600 }, probeGuard } as never)({} as never);
    return tools.find((t) => t.name === 'http_probe')!;
  };
  const call = { id: 'c1', threadId: 'local:ops', platform: 'local', persona: 'hephaestus', runId: 'r' };

  test('refused with no request reaching the server; reached once infra.probeAllowlist names it', async () => {
    const before = seen.length;
    for (const url of [`http://127.0.0.1:${port}/api/chat`, `http://localhost:${port}/`, `http://2130706433:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`]) {
      await assert.rejects(httpProbeTool([]).run({ url }, call), {
        message: new RegExp(`^Refused: .*:${port} is on Pantheon's own host \\(loopback\\); an operator can allow it with infra\\.probeAllowlist in pantheon\\.yaml$`),
      });
    }
    await assert.rejects(httpProbeTool([`127.0.0.1:${port + 1}`]).run({ url: `http://127.0.0.1:${port}/` }, call), /Refused/);
    assert.equal(seen.length, before, 'no request reached the server');

    const answer = await httpProbeTool([`127.0.0.1:${port}`]).run({ url: `http://127.0.0.1:${port}/healthz` }, call);
    assert.match(answer, new RegExp(`^http://127\\.0\\.0\\.1:${port}/healthz: up — HTTP 200 in \\d+ ms$`));
    assert.equal(seen.length, before + 1);
    assert.equal(seen.at(-1)!.url, '/healthz');
  });

  test('a name allowlisted connects to the vetted address and presents the name', async () => {
    const calls: string[] = [];
    const g = new ProbeTargetGuard({ allowlist: ['app.pantheon.test'], resolve: table({ 'app.pantheon.test': ['127.0.0.1'] }, calls) });
    const r = await httpProbe(`http://app.pantheon.test:${port}/x?y=1`, { guard: g });
    assert.equal(r.status, 200);
    assert.deepEqual(calls, ['app.pantheon.test'], 'resolved once, by the guard');
    assert.equal(seen.at(-1)!.headers.host, `app.pantheon.test:${port}`);
    assert.equal(seen.at(-1)!.url, '/x?y=1');
  });

  test('a scheduled http or tls check against a refused target fails with the refusal, without a request', async () => {
    const before = seen.length;
    const checks = new ScheduledChecks({ checks: [], hosts: new HostRegistry({ hosts: [] }), probeGuard: new ProbeTargetGuard() } as never);
    const http = await checks.evaluate({ name: 'own-api', path: 'schedules[0]', channel: 'local:ops', resolved: true, check: { kind: 'http', url: `http://127.0.0.1:${port}/api/approvals` } });
    assert.deepEqual(http, {
      ok: false,
      detail: `check own-api: Refused: 127.0.0.1:${port} is on Pantheon's own host (loopback); an operator can allow it with infra.probeAllowlist in pantheon.yaml`,
    });
    const tls = await checks.evaluate({ name: 'metadata', path: 'schedules[0]', channel: 'local:ops', resolved: true, check: { kind: 'tls', url: 'https://169.254.169.254/' } });
    assert.equal(tls.ok, false);
    assert.match(tls.detail, /^check metadata: Refused: 169\.254\.169\.254:443 is link-local/);
    assert.equal(seen.length, before);
  });
});
