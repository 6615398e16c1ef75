import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { getMessages, modelEnv, postMessage, startPantheonProcess, tempDir, waitForMessage, type ApiMessage, type RunningPantheon, authFor } from '../support/pantheon-process.js';
import { runningInGroup, startSshd, type TestSshd } from '../support/sshd.js';
import { linkFor, signIn } from '../support/console-session.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const approvalIdIn = (text: string) => /Approval needed \[([a-z0-9]+)\]/.exec(text)?.[1];
const jobIdIn = (text: string) => /Job (j-[0-9a-f]{8})/.exec(text)?.[1];

interface JobJson {
  id: string;
  status: string;
  exitCode: number | null;
  remotePid: number | null;
  logLines: number;
  error: string | null;
}

async function job(url: string, id: string): Promise<JobJson> {
  const res = await fetch(`${url}/api/jobs/${id}`, { headers: authFor(url) });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { job: JobJson }).job;
}

/** Collects every message event of a conversation's SSE stream (edits arrive again with the same id). */
function followStream(url: string, conversation: string): { events: ApiMessage[]; close: () => void } {
  const events: ApiMessage[] = [];
  const ctrl = new AbortController();
  void (async () => {
    const res = await fetch(`${url}/api/chat/${conversation}/stream`, { signal: ctrl.signal, headers: authFor(url) });
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (data) events.push(JSON.parse(data.slice(6)) as ApiMessage);
      }
    }
  })().catch(() => {});
  return { events, close: () => ctrl.abort() };
}

/**
 * The real process, the scripted model, and real OpenSSH servers on 127.0.0.1: Hephaestus does
 * infrastructure work from the local chat.
 */
describe('infra: SSH jobs from a chat message', () => {
  let fake: FakeLLM;
  let sshd: TestSshd;
  let rekeyed: TestSshd;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: RunningPantheon;
  let bin: string;

  before(async () => {
    fake = await startFakeLLM();
    dir = await tempDir();
    bin = join(dir.path, 'bin');
    mkdirSync(bin);
    // A stand-in for systemctl on the host: it records what it was asked to do.
    writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\necho "systemctl $*" >> ${join(dir.path, 'systemctl.log')}\necho "done: $*"\n`);
    chmodSync(join(bin, 'systemctl'), 0o755);
    sshd = await startSshd({ pathPrefix: [bin] });
    rekeyed = await startSshd();
    // The second server's entry holds the FIRST server's key: as if that host had been re-keyed (or were an impostor).
    const knownHosts = join(dir.path, 'known_hosts');
    writeFileSync(knownHosts, `${readFileSync(sshd.knownHosts, 'utf8')}[127.0.0.1]:${rekeyed.port} ${sshd.hostPublicKey}\n`);
    const host = (name: string, s: TestSshd, extra = '') => `    - { name: ${name}, address: 127.0.0.1, port: ${s.port}, user: ${s.user}, privateKey: ${s.clientKey}${extra} }`;
    writeFileSync(
      join(dir.path, 'pantheon.yaml'),
      [
        'humans:',
        '  - { id: jeff, local: jeff, approver: true }',
        'infra:',
        `  knownHosts: ${knownHosts}`,
        '  hosts:',
        host('staging-1', sshd),
        host('lab-1', sshd, ', policy: { risk: read }'),
        host('rekeyed-1', rekeyed),
        '  jobs: { waitSeconds: 3, progressIntervalMs: 400 }',
        '  schedule:',
        `    - { name: no-broken-flag, every: 1, check: { kind: command, host: staging-1, command: "test ! -e ${join(dir.path, 'broken')}" }, channel: "local:ops" }`,
      ].join('\n'),
    );
    // Creating the embedded database takes a while on a busy machine.
    app = await startPantheonProcess({ env: modelEnv(fake), dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 120_000 });
  });

  after(async () => {
    if (app) assert.equal(await app.stop(), 0, app.stderr());
    await sshd?.stop();
    await rekeyed?.stop();
    await fake?.close();
    await dir?.remove();
  });

  it('runs `df -h` on a registered host: the output appears in the thread and reaches the persona', async () => {
    fake.enqueue({ toolCalls: [{ name: 'run_command', args: { host: 'staging-1', command: 'df -h', reason: 'alice asked how full the disks are' } }] }, { text: 'Disks on staging-1 look fine.' });
    await postMessage(app.url, 'disks', { text: '@hephaestus how full are the disks on staging-1?', user: 'alice' });
    await waitForMessage(app.url, 'disks', (m) => m.text === 'Disks on staging-1 look fine.', 30_000);
    const progress = (await getMessages(app.url, 'disks')).find((m) => jobIdIn(m.text));
    assert.ok(progress, 'the job has its message in the thread');
    assert.equal(progress.persona, 'hephaestus');
    assert.match(progress.text, /✅ Job j-[0-9a-f]{8} on staging-1: `df -h` — succeeded \(exit 0\)/);
    assert.match(progress.text, /Filesystem\s+Size\s+Used\s+Avail/);
    const toolResult = fake.requests.at(-1)!.messages.find((m) => m.role === 'tool')!.content;
    assert.match(toolResult, /succeeded \(exit 0\)[\s\S]*Filesystem/);
    assert.ok(!(await getMessages(app.url, 'disks')).some((m) => /Approval needed/.test(m.text)), 'a read-only command asks nobody');
  });

  it('`systemctl restart` asks first: runs only after approve; deny leaves the host untouched', async () => {
    const log = join(dir.path, 'systemctl.log');
    fake.enqueue({ toolCalls: [{ name: 'run_command', args: { host: 'staging-1', command: 'systemctl restart api.service', reason: 'the API is stuck' } }] }, { text: 'Restarted the API.' });
    await postMessage(app.url, 'restart', { text: '@hephaestus restart the api on staging-1', user: 'alice' });
    const request = await waitForMessage(app.url, 'restart', (m) => /Approval needed/.test(m.text), 30_000);
    assert.match(request.text, /hephaestus wants to run run_command \(risk: infra\)/);
    assert.match(request.text, /systemctl restart api.service/);
    await sleep(500);
    assert.equal(existsSync(log), false, 'nothing ran before the approval');
    await postMessage(app.url, 'restart', { text: `approve ${approvalIdIn(request.text)}`, user: 'jeff' });
    await waitForMessage(app.url, 'restart', (m) => m.text === 'Restarted the API.', 30_000);
    assert.equal(readFileSync(log, 'utf8'), 'systemctl restart api.service\n');
    assert.ok((await getMessages(app.url, 'restart')).some((m) => /✅ Job .* `systemctl restart api.service` — succeeded/.test(m.text)));

    fake.enqueue({ toolCalls: [{ name: 'run_command', args: { host: 'staging-1', command: 'systemctl restart db.service', reason: 'just in case' } }] }, { text: 'Leaving the database alone.' });
    await postMessage(app.url, 'restart', { text: '@hephaestus restart the db too', user: 'alice' });
    const second = await waitForMessage(app.url, 'restart', (m) => /Approval needed/.test(m.text) && m.text.includes('db.service'), 30_000);
    await postMessage(app.url, 'restart', { text: `deny ${approvalIdIn(second.text)} not during business hours`, user: 'jeff' });
    await waitForMessage(app.url, 'restart', (m) => m.text === 'Leaving the database alone.', 30_000);
    assert.equal(readFileSync(log, 'utf8'), 'systemctl restart api.service\n', 'the denied restart never reached the host');
  });

  it('a job printing 1,000 lines streams batched edits of one message, and its full log is in the API', async () => {
    const stream = followStream(app.url, 'noisy');
    await sleep(300);
    const command = 'i=0; while [ $i -lt 1000 ]; do i=$((i+1)); echo "line $i"; if [ $((i % 100)) -eq 0 ]; then sleep 0.25; fi; done';
    fake.enqueue({ toolCalls: [{ name: 'run_command', args: { host: 'lab-1', command } }] }, { text: 'Printed them all.' });
    await postMessage(app.url, 'noisy', { text: '@hephaestus print 1000 lines on lab-1', user: 'alice' });
    await waitForMessage(app.url, 'noisy', (m) => m.text === 'Printed them all.', 30_000);
    await sleep(500);
    stream.close();
    const progress = (await getMessages(app.url, 'noisy')).find((m) => jobIdIn(m.text))!;
    const id = jobIdIn(progress.text)!;
    const versions = stream.events.filter((e) => e.id === progress.id);
    assert.ok(versions.length >= 3, `progress was shown while it ran (${versions.length} versions)`);
    assert.ok(versions.length <= 30, `edits are batched, not one per line (${versions.length} versions)`);
    assert.ok(
      versions.some((v) => /running/.test(v.text)),
      'a running state was streamed',
    );
    assert.match(versions.at(-1)!.text, /succeeded \(exit 0\).*1000 lines/);
    assert.equal(stream.events.filter((e) => jobIdIn(e.text)).length, versions.length, 'one message for the job, edited in place');

    assert.equal((await job(app.url, id)).status, 'succeeded');
    const log = (await (await fetch(`${app.url}/api/jobs/${id}/log`, { headers: app.auth })).json()) as { lines: { seq: number; text: string }[]; truncated: boolean };
    assert.equal(log.lines.length, 1000);
    assert.deepEqual(
      log.lines.map((l) => l.text),
      Array.from({ length: 1000 }, (_, i) => `line ${i + 1}`),
    );
    assert.equal(log.truncated, false);
    const text = await (await fetch(`${app.url}/api/jobs/${id}/log?format=text`, { headers: app.auth })).text();
    assert.equal(text.split('\n').length, 1001);
  });

  it('/cancel stops `sleep 600` within 2 seconds and the remote process is gone', async () => {
    fake.enqueue({ toolCalls: [{ name: 'run_command', args: { host: 'lab-1', command: 'sleep 600' } }] }, { text: 'It is running in the background.' });
    await postMessage(app.url, 'long', { text: '@hephaestus sleep for ten minutes on lab-1', user: 'alice' });
    await waitForMessage(app.url, 'long', (m) => m.text === 'It is running in the background.', 30_000);
    assert.match(fake.requests.at(-1)!.messages.find((m) => m.role === 'tool')!.content, /is running .*\/cancel j-/s);
    const id = jobIdIn((await getMessages(app.url, 'long')).find((m) => jobIdIn(m.text))!.text)!;
    const running = await job(app.url, id);
    assert.equal(running.status, 'running');
    const pid = running.remotePid!;
    assert.ok(
      runningInGroup(pid).some((p) => p.includes('(sleep)')),
      'sleep 600 runs on the host',
    );

    const t0 = Date.now();
    await postMessage(app.url, 'ops-desk', { text: `/cancel ${id}`, user: 'jeff' });
    let status = running.status;
    while (Date.now() - t0 < 5000 && (status !== 'cancelled' || runningInGroup(pid).length)) {
      await sleep(50);
      status = (await job(app.url, id)).status;
    }
    const took = Date.now() - t0;
    assert.equal(status, 'cancelled');
    assert.deepEqual(runningInGroup(pid), [], 'the remote process group is gone');
    assert.ok(took <= 2000, `stopped ${took} ms after /cancel`);
    await waitForMessage(app.url, 'ops-desk', (m) => m.role === 'system' && m.text.includes(`Stopping job ${id}`));
    await waitForMessage(app.url, 'long', (m) => new RegExp(`🛑 Job ${id} .* — cancelled`).test(m.text));
  });

  it("the console: a job's log streams live (SSE) to a signed-in human, whose Cancel stops it and is recorded as theirs", async () => {
    fake.enqueue({ toolCalls: [{ name: 'run_command', args: { host: 'lab-1', command: 'for i in 1 2 3; do echo tick $i; sleep 0.3; done; sleep 600' } }] }, { text: 'Ticking away.' });
    await postMessage(app.url, 'ticks', { text: '@hephaestus tick on lab-1', user: 'alice' });
    await waitForMessage(app.url, 'ticks', (m) => m.text === 'Ticking away.', 30_000);
    const id = jobIdIn((await getMessages(app.url, 'ticks')).find((m) => jobIdIn(m.text))!.text)!;
    const jeff = await signIn(await linkFor(app.url, app.auth, 'jeff'));
    const events: Array<{ event: string; data: { text?: string; status?: string; cancelledBy?: string } }> = [];
    const ctrl = new AbortController();
    const res = await fetch(`${app.url}/api/jobs/${id}/log/stream`, { headers: jeff.headers(), signal: ctrl.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const reading = (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
        }
      }
    })().catch(() => {});
    try {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && !events.some((e) => e.event === 'line' && e.data.text === 'tick 3')) await sleep(50);
      assert.deepEqual(
        events.filter((e) => e.event === 'line').map((e) => e.data.text),
        ['tick 1', 'tick 2', 'tick 3'],
      );
      assert.equal(events.find((e) => e.event === 'job')?.data.status, 'running');
      const noCsrf = await fetch(`${app.url}/api/jobs/${id}/cancel`, { method: 'POST', headers: { cookie: jeff.cookie, 'content-type': 'application/json' }, body: '{}' });
      assert.equal(noCsrf.status, 403);
      const cancel = await fetch(`${app.url}/api/jobs/${id}/cancel`, { method: 'POST', headers: jeff.headers(true), body: JSON.stringify({ user: 'someone-else' }) });
      assert.equal(cancel.status, 202, await cancel.clone().text());
      await Promise.race([reading, sleep(10_000)]);
      const end = events.find((e) => e.event === 'end');
      assert.equal(end?.data.status, 'cancelled', JSON.stringify(events.slice(-3)));
      assert.equal(end?.data.cancelledBy, 'jeff', 'the signed-in human, whatever the body says');
    } finally {
      ctrl.abort();
    }
  });

  it('a changed host key is refused with a message that says what to check', async () => {
    fake.enqueue({ toolCalls: [{ name: 'run_command', args: { host: 'rekeyed-1', command: 'uptime' } }] }, { text: 'The host key is wrong; not touching it.' });
    await postMessage(app.url, 'rekey', { text: '@hephaestus uptime of rekeyed-1?', user: 'alice' });
    await waitForMessage(app.url, 'rekey', (m) => m.text === 'The host key is wrong; not touching it.', 30_000);
    const progress = (await getMessages(app.url, 'rekey')).find((m) => jobIdIn(m.text))!;
    assert.match(progress.text, /❌ Job .* — failed/);
    assert.match(progress.text, /host key has CHANGED/);
    assert.match(progress.text, new RegExp(`presented ssh-ed25519 SHA256:\\S+, but .*known_hosts expects ssh-ed25519 SHA256:`));
    assert.match(progress.text, /ssh-keygen -lf \/etc\/ssh\/ssh_host_ed25519_key\.pub/);
    assert.match(progress.text, /ssh-keygen -R '\[127\.0\.0\.1\]:\d+'/);
    assert.match(fake.requests.at(-1)!.messages.find((m) => m.role === 'tool')!.content, /host key has CHANGED/);
    assert.doesNotMatch(rekeyed.log(), /Accepted publickey/, 'no login happened on the impostor');
  });

  it('a scheduled check posts only when it fails, once per incident', async () => {
    const flag = join(dir.path, 'broken');
    await sleep(2500);
    assert.deepEqual(await getMessages(app.url, 'ops'), [], 'quiet while the check passes');
    writeFileSync(flag, 'x');
    const first = await waitForMessage(app.url, 'ops', (m) => m.text.startsWith('🔥'), 15_000);
    assert.match(first.text, /failed on staging-1 \(exit 1\).*check no-broken-flag/);
    await sleep(3000);
    assert.equal((await getMessages(app.url, 'ops')).length, 1, 'later failures of the same incident stay quiet');
    rmSync(flag);
    await waitForMessage(app.url, 'ops', (m) => m.text.startsWith('✅ Resolved: check no-broken-flag'), 15_000);
    writeFileSync(flag, 'x');
    await waitForMessage(app.url, 'ops', (m) => m.text.startsWith('🔥') && m.id !== first.id, 15_000);
    rmSync(flag);
    await sleep(2500);
    const kinds = (await getMessages(app.url, 'ops')).map((m) => (m.text.startsWith('🔥') ? 'opened' : m.text.startsWith('✅') ? 'resolved' : m.text));
    assert.deepEqual(kinds, ['opened', 'resolved', 'opened', 'resolved']);
  });
});
