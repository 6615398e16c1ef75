import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM, type FakeLLMRequest } from '../fakes/llm/index.js';
import { getMessages, modelEnv, postMessage, startPantheonProcess, tempDir, waitForMessage, type RunningPantheon } from '../support/pantheon-process.js';
import { startSshd, writeFakeDocker, type TestSshd } from '../support/sshd.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const approvalIdIn = (text: string) => /Approval needed \[([a-z0-9]+)\]/.exec(text)?.[1];
/** A job's own message in the thread (not the persona quoting a tool result). */
const isJob = (text: string) => /^\S+ Job j-[0-9a-f]{8} on /u.test(text);

/** A self-signed certificate for 127.0.0.1 valid for `days`, made by the real openssl. */
function selfSigned(dir: string, days: number): { key: Buffer; cert: Buffer } {
  const key = join(dir, `key-${days}.pem`);
  const cert = join(dir, `cert-${days}.pem`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      String(days),
      '-subj',
      '/CN=pantheon-ops.test',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

/**
 * What a model does with tool results it was asked about: repeats them. So the thread shows
 * exactly what the tool answered (every tool result since the model last spoke).
 */
function repeatToolResults(req: FakeLLMRequest): { text: string } {
  const results: string[] = [];
  for (let i = req.messages.length - 1; i >= 0 && req.messages[i]!.role === 'tool'; i--) results.unshift(req.messages[i]!.content);
  return { text: results.length ? `Tool said:\n${results.join('\n---\n')}` : 'Nothing to report.' };
}

/**
 * Docker, runbooks and probes, end to end: the real process, the scripted model, a real OpenSSH
 * server with a fake docker CLI on its PATH, and real HTTP and HTTPS servers on 127.0.0.1.
 */
describe('infra ops: docker, runbooks and probes from a chat message', () => {
  let fake: FakeLLM;
  let sshd: TestSshd;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: RunningPantheon;
  let dockerLog: string;
  let web: HttpServer;
  let webUrl: string;
  let tlsServer: HttpsServer;
  let tlsPort: number;
  let longCert: { key: Buffer; cert: Buffer };

  before(async () => {
    fake = await startFakeLLM();
    fake.setResponder(repeatToolResults);
    dir = await tempDir();
    const bin = join(dir.path, 'bin');
    mkdirSync(bin);
    dockerLog = writeFakeDocker(bin, dir.path, [
      { id: '3f4e5a6b7c8d9e0f1a2b', name: 'web', image: 'nginx:1.27', command: '/docker-entrypoint.sh nginx -g daemon off;', status: 'Up 3 hours', ports: '0.0.0.0:80->80/tcp' },
      { id: '9a8b7c6d5e4f3a2b1c0d', name: 'worker', image: 'acme/worker:2.1', command: 'node worker.js', status: 'Exited (1) 2 minutes ago' },
      { id: '5e6f7a8b9c0d1e2f3a4b', name: 'db', image: 'postgres:16', command: 'docker-entrypoint.sh postgres', status: 'Up 3 hours (healthy)', ports: '5432/tcp' },
    ]);
    sshd = await startSshd({ pathPrefix: [bin] });

    web = createHttpServer((req, res) => {
      res.statusCode = req.url === '/boom' ? 500 : 200;
      res.end(req.url === '/boom' ? 'internal error' : 'ok');
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    longCert = selfSigned(dir.path, 90);
    tlsServer = createHttpsServer(selfSigned(dir.path, 10), (_req, res) => res.end('ok'));
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    tlsPort = (tlsServer.address() as AddressInfo).port;

    writeFileSync(
      join(dir.path, 'pantheon.yaml'),
      [
        'humans:',
        '  - { id: jeff, local: jeff, approver: true }',
        'infra:',
        `  knownHosts: ${sshd.knownHosts}`,
        '  hosts:',
        `    - { name: app-1, address: 127.0.0.1, port: ${sshd.port}, user: ${sshd.user}, privateKey: ${sshd.clientKey}, policy: { deny: ["rm -rf *"] } }`,
        '  runbooks:',
        '    - name: revive-worker',
        '      description: start the crashed worker again and check it runs',
        '      host: app-1',
        '      steps:',
        '        - { name: look, run: docker ps -a }',
        '        - { name: restart, run: docker restart worker, mutating: true }',
        '        - { name: check it runs, run: docker ps }',
        '    - name: clear-cache',
        '      host: app-1',
        '      steps:',
        '        - { name: wipe, run: rm -rf /var/cache/app }',
        '  jobs: { waitSeconds: 5, progressIntervalMs: 400 }',
        // The fakes are on this host's loopback, where probes go only when an operator says so.
        `  probeAllowlist: ["${new URL(webUrl).host}", "127.0.0.1:${tlsPort}"]`,
        '  schedule:',
        `    - { name: cert-web, every: 1, check: { kind: tls, url: "https://127.0.0.1:${tlsPort}", threshold: 30 }, channel: "local:certs" }`,
        '    - { name: metadata, every: 1, check: { kind: http, url: "http://169.254.169.254/latest/meta-data/" }, channel: "local:metadata" }',
      ].join('\n'),
    );
    app = await startPantheonProcess({ env: modelEnv(fake), dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 120_000 });
  });

  after(async () => {
    if (app) assert.equal(await app.stop(), 0, app.stderr());
    await sshd?.stop();
    // A `before` that failed early leaves some of these unset: closing nothing must not wait forever.
    if (web) {
      web.closeAllConnections();
      await new Promise((r) => web.close(r));
    }
    if (tlsServer) {
      tlsServer.closeAllConnections();
      await new Promise((r) => tlsServer.close(r));
    }
    await fake?.close();
    await dir?.remove();
  });

  it('docker_status lists the containers without asking anyone', async () => {
    fake.enqueue({ toolCalls: [{ name: 'docker_status', args: { host: 'app-1' } }] });
    await postMessage(app.url, 'containers', { text: '@hephaestus which containers run on app-1?', user: 'alice' });
    const answer = await waitForMessage(app.url, 'containers', (m) => m.text.startsWith('Tool said:'), 30_000);
    assert.equal(answer.persona, 'hephaestus');
    assert.match(answer.text, /app-1: 3 containers/);
    assert.match(answer.text, /- web · Up 3 hours · nginx:1\.27/);
    assert.match(answer.text, /- worker · Exited \(1\) 2 minutes ago · acme\/worker:2\.1/);
    assert.match(answer.text, /- db · Up 3 hours \(healthy\) · postgres:16/);
    assert.ok(!(await getMessages(app.url, 'containers')).some((m) => /Approval needed/.test(m.text)), 'a read asks nobody');
  });

  it('docker_restart waits for an approver: runs once after approve; deny leaves the container alone', async () => {
    fake.enqueue({ toolCalls: [{ name: 'docker_restart', args: { host: 'app-1', container: 'web', reason: 'web answers 502' } }] });
    await postMessage(app.url, 'restart-web', { text: '@hephaestus restart web on app-1', user: 'alice' });
    const request = await waitForMessage(app.url, 'restart-web', (m) => /Approval needed/.test(m.text), 30_000);
    assert.match(request.text, /hephaestus wants to run docker_restart \(risk: infra\)/);
    assert.match(request.text, /"container":"web"/);
    await sleep(500);
    assert.equal(existsSync(dockerLog), false, 'nothing ran before the approval');

    // Someone who is not an approver cannot let it through.
    await postMessage(app.url, 'restart-web', { text: `approve ${approvalIdIn(request.text)}`, user: 'alice' });
    await sleep(1000);
    assert.equal(existsSync(dockerLog), false, 'alice is not an approver');

    await postMessage(app.url, 'restart-web', { text: `approve ${approvalIdIn(request.text)}`, user: 'jeff' });
    const done = await waitForMessage(app.url, 'restart-web', (m) => m.text.startsWith('Tool said:'), 30_000);
    assert.match(done.text, /Job j-[0-9a-f]{8} on app-1: `docker restart web` succeeded \(exit 0\)/);
    assert.equal(readFileSync(dockerLog, 'utf8'), 'restart web\n');
    const job = (await getMessages(app.url, 'restart-web')).find((m) => isJob(m.text))!;
    assert.match(job.text, /✅ Job j-[0-9a-f]{8} on app-1: `docker restart web` — succeeded \(exit 0\)/);
    assert.match(job.text, /```\nweb\n```/, 'the job message shows what docker printed');

    fake.enqueue({ toolCalls: [{ name: 'docker_restart', args: { host: 'app-1', container: 'db' } }] });
    await postMessage(app.url, 'restart-db', { text: '@hephaestus restart db on app-1', user: 'alice' });
    const second = await waitForMessage(app.url, 'restart-db', (m) => /Approval needed/.test(m.text), 30_000);
    await postMessage(app.url, 'restart-db', { text: `deny ${approvalIdIn(second.text)} not during the sale`, user: 'jeff' });
    const denied = await waitForMessage(app.url, 'restart-db', (m) => m.text.startsWith('Tool said:'), 30_000);
    assert.match(denied.text, /Not run: denied by jeff \(not during the sale\)/);
    assert.equal(readFileSync(dockerLog, 'utf8'), 'restart web\n', 'the denied restart never reached the host');
    assert.ok(!(await getMessages(app.url, 'restart-db')).some((m) => isJob(m.text)), 'no job was started');
  });

  it('a runbook runs step by step: reads at once, the mutating step after its own approval', async () => {
    fake.enqueue(
      { toolCalls: [{ name: 'run_runbook', args: { runbook: 'revive-worker' } }] },
      { toolCalls: [{ name: 'run_runbook', args: { runbook: 'revive-worker', step: 1 } }] },
      { toolCalls: [{ name: 'run_runbook', args: { runbook: 'revive-worker', step: 2 } }] },
      { toolCalls: [{ name: 'run_runbook', args: { runbook: 'revive-worker', step: 3 } }] },
    );
    const restarts = () => (existsSync(dockerLog) ? readFileSync(dockerLog, 'utf8') : '');
    const before = restarts();
    await postMessage(app.url, 'runbook', { text: '@hephaestus run the revive-worker runbook', user: 'alice' });
    const request = await waitForMessage(app.url, 'runbook', (m) => /Approval needed/.test(m.text), 30_000);
    assert.match(request.text, /run_runbook \(risk: infra\)/);
    assert.match(request.text, /"runbook":"revive-worker"/);
    assert.match(request.text, /"command":"docker restart worker"/, 'the approver sees the command the step runs');
    assert.match(request.text, /"step":2/);
    const plan = fake.requests.find((r) => r.messages.at(-1)?.role === 'tool' && r.messages.at(-1)!.content.startsWith('Runbook revive-worker'))!;
    assert.match(
      plan.messages.at(-1)!.content,
      /1\. look — `docker ps -a` on app-1 \(read-only, runs at once\)\n2\. restart — `docker restart worker` on app-1 \(infra: asks for approval\)\n3\. check it runs — `docker ps` on app-1 \(read-only, runs at once\)/,
    );

    let messages = await getMessages(app.url, 'runbook');
    const first = messages.filter((m) => isJob(m.text));
    assert.equal(first.length, 1, 'step 1 ran before anyone was asked');
    assert.match(first[0]!.text, /✅ .* `docker ps -a` — succeeded[\s\S]*CONTAINER ID\s+IMAGE[\s\S]*Exited \(1\) 2 minutes ago\s+worker/);
    await sleep(500);
    assert.equal(restarts(), before, 'the restart waits for its approval');

    await postMessage(app.url, 'runbook', { text: `approve ${approvalIdIn(request.text)}`, user: 'jeff' });
    const end = await waitForMessage(app.url, 'runbook', (m) => m.text.startsWith('Tool said:'), 30_000);
    assert.match(end.text, /Step 3\/3 \(check it runs\)[\s\S]*That was the last step of revive-worker/);
    assert.equal(restarts(), `${before}restart worker\n`, 'one restart, after the approval');

    messages = await getMessages(app.url, 'runbook');
    const jobs = messages.filter((m) => isJob(m.text)).map((m) => m.text);
    assert.equal(jobs.length, 3, 'each step has its job message in the thread');
    assert.match(jobs[1]!, /✅ .* `docker restart worker` — succeeded[\s\S]*```\nworker\n```/);
    assert.match(jobs[2]!, /✅ .* `docker ps` — succeeded[\s\S]*acme\/worker:2\.1 .*Up (\d+ seconds?|Less than a second)\s+worker/);
    assert.equal(messages.filter((m) => /Approval needed/.test(m.text)).length, 1, 'only the mutating step asked');
  });

  it('a runbook step the host policy denies is refused, unasked and unrun', async () => {
    fake.enqueue({ toolCalls: [{ name: 'run_runbook', args: { runbook: 'clear-cache', step: 1 } }] });
    await postMessage(app.url, 'cache', { text: '@hephaestus run clear-cache', user: 'alice' });
    const answer = await waitForMessage(app.url, 'cache', (m) => m.text.startsWith('Tool said:'), 30_000);
    assert.match(answer.text, /Not run: the command policy of host app-1 refuses commands matching "rm -rf \*"/);
    const messages = await getMessages(app.url, 'cache');
    assert.ok(!messages.some((m) => /Approval needed/.test(m.text) || isJob(m.text)), 'nobody asked, nothing ran');
  });

  it('host_health reads real uptime, load, memory and disks over SSH', async () => {
    fake.enqueue({ toolCalls: [{ name: 'host_health', args: { host: 'app-1' } }] });
    await postMessage(app.url, 'health', { text: '@hephaestus how is app-1?', user: 'alice' });
    const answer = await waitForMessage(app.url, 'health', (m) => m.text.startsWith('Tool said:'), 30_000);
    assert.match(answer.text, /app-1: up \d+ (min|h|d)/);
    assert.match(answer.text, /load \d+(\.\d+)? \d+(\.\d+)? \d+(\.\d+)? on \d+ CPUs?/);
    assert.match(answer.text, /memory \d+% used \([\d.]+ [MG]iB available of [\d.]+ [MG]iB\)/);
    assert.match(answer.text, /disk: \/\S* \d+% \([\d.]+ [KMG]iB free\)/);
  });

  it('http_probe reports status and latency; a 500 is down', async () => {
    fake.enqueue({
      toolCalls: [
        { name: 'http_probe', args: { url: `${webUrl}/healthz` } },
        { name: 'http_probe', args: { url: `${webUrl}/boom` } },
      ],
    });
    await postMessage(app.url, 'probe', { text: '@hephaestus is the site up?', user: 'alice' });
    const answer = await waitForMessage(app.url, 'probe', (m) => m.text.startsWith('Tool said:'), 30_000);
    assert.match(answer.text, new RegExp(`${webUrl}/healthz: up — HTTP 200 in \\d+ ms`));
    assert.match(answer.text, new RegExp(`${webUrl}/boom: DOWN — HTTP 500 in \\d+ ms`));
  });

  it("http_probe and tls_expiry refuse Pantheon's own port and the metadata address", async () => {
    const own = new URL(app.url);
    fake.enqueue({
      toolCalls: [
        { name: 'http_probe', args: { url: `${app.url}/api/chat/probe/messages` } },
        { name: 'http_probe', args: { url: `http://2130706433:${own.port}/api/approvals` } },
        { name: 'http_probe', args: { url: 'http://169.254.169.254/latest/meta-data/' } },
        { name: 'tls_expiry', args: { target: `localhost:${own.port}` } },
      ],
    });
    await postMessage(app.url, 'refused', { text: '@hephaestus read the approvals from the API', user: 'alice' });
    const answer = await waitForMessage(app.url, 'refused', (m) => m.text.startsWith('Tool said:'), 30_000);
    const allow = '; an operator can allow it with infra\\.probeAllowlist in pantheon\\.yaml';
    const loopback = new RegExp(`^Error: Refused: 127\\.0\\.0\\.1:${own.port} is on Pantheon's own host \\(loopback\\)${allow}$`, 'gm');
    assert.equal(answer.text.match(loopback)?.length, own.hostname === 'localhost' ? 1 : 2, answer.text);
    assert.match(answer.text, new RegExp(`^Error: Refused: 169\\.254\\.169\\.254:80 is link-local \\(where cloud metadata services answer\\)${allow}$`, 'm'));
    assert.match(answer.text, new RegExp(`^Error: Refused: localhost:${own.port} is on Pantheon's own host \\(loopback\\)${allow}$`, 'm'));
  });

  it('a scheduled check against a refused target posts the refusal once', async () => {
    const opened = await waitForMessage(app.url, 'metadata', (m) => m.text.startsWith('🔥'), 15_000);
    assert.match(opened.text, /^🔥 check metadata: Refused: 169\.254\.169\.254:80 is link-local .*infra\.probeAllowlist in pantheon\.yaml \(check metadata; incident/);
    await sleep(2500);
    assert.equal((await getMessages(app.url, 'metadata')).length, 1, 'the check ran again and stayed quiet');
  });

  it('tls_expiry reads a real certificate: about 10 days left, self-signed', async () => {
    fake.enqueue({ toolCalls: [{ name: 'tls_expiry', args: { target: `https://127.0.0.1:${tlsPort}/` } }] });
    await postMessage(app.url, 'cert', { text: '@hephaestus when does the certificate expire?', user: 'alice' });
    const answer = await waitForMessage(app.url, 'cert', (m) => m.text.startsWith('Tool said:'), 30_000);
    const days = Number(/expires in (\d+) days/.exec(answer.text)?.[1]);
    assert.ok(days >= 9 && days <= 10, `about 10 days left: ${answer.text}`);
    assert.match(
      answer.text,
      new RegExp(
        `127\\.0\\.0\\.1:${tlsPort}: certificate for pantheon-ops\\.test expires in \\d+ days \\(\\d{4}-\\d\\d-\\d\\d\\) ⚠, issued by pantheon-ops\\.test; not trusted: DEPTH_ZERO_SELF_SIGNED_CERT`,
      ),
    );
  });

  it('a scheduled tls check (threshold 30 days) posts once per incident, and once when resolved', async () => {
    const opened = await waitForMessage(app.url, 'certs', (m) => m.text.startsWith('🔥'), 15_000);
    assert.match(opened.text, new RegExp(`TLS certificate of 127\\.0\\.0\\.1:${tlsPort} expires in (9|10) days .*check cert-web`));
    await sleep(3000);
    assert.equal((await getMessages(app.url, 'certs')).length, 1, 'the check ran again and stayed quiet');
    tlsServer.setSecureContext(longCert); // the certificate is renewed
    await waitForMessage(app.url, 'certs', (m) => m.text.startsWith('✅ Resolved: check cert-web'), 15_000);
    await sleep(2500);
    const kinds = (await getMessages(app.url, 'certs')).map((m) => (m.text.startsWith('🔥') ? 'opened' : m.text.startsWith('✅ Resolved') ? 'resolved' : m.text));
    assert.deepEqual(kinds, ['opened', 'resolved']);
  });
});
