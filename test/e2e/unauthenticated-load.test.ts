import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { get, request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { sampleRss, settledRss } from '../support/process-rss.js';
import { modelEnv, startPantheonProcess, tempDir, type RunningPantheon } from '../support/pantheon-process.js';

const TOKEN = 'load-console-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const SECRET = 'whsec-load-0123456789';
const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One POST of `body`; answers the status, or 'closed' when the server closed the connection
 * before (or instead of) answering: a refusal that did not read the body.
 */
function post(url: string, path: string, body: Buffer, headers: Record<string, string>): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    const req = request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...headers } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve('closed'));
    req.end(body);
  });
}

interface OpenStream {
  status: number;
  body: () => string;
  res: IncomingMessage;
  close: () => void;
}

/** Opens `GET /api/chat/<c>/stream`; resolves once the answer's head (and, for an error, its body) is in. */
function openStream(url: string, conversation: string, headers: Record<string, string>): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = get(`${url}/api/chat/${conversation}/stream`, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('error', () => {});
      const stream = { status: res.statusCode ?? 0, body: () => body, res, close: () => req.destroy() };
      if (res.statusCode === 200) resolve(stream);
      else res.on('end', () => resolve(stream));
    });
    req.on('error', reject);
  });
}

describe('unauthenticated callers cannot grow the process', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let app: RunningPantheon;
  let llm: FakeLLM;

  before(async () => {
    llm = await startFakeLLM();
    llm.setResponder(() => ({ text: 'noted.' }));
    dir = await tempDir('pantheon-load-');
    await writeFile(join(dir.path, 'pantheon.yaml'), `github:\n  apiUrl: http://127.0.0.1:9\n  webhookSecret: ${SECRET}\n  throttle: false\n`);
    app = await startPantheonProcess({ env: modelEnv(llm, { PANTHEON_CONSOLE_TOKEN: TOKEN }), dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 120_000 });
  });
  after(async () => {
    if (app && app.child.exitCode !== null) console.log(`pantheon exited with ${app.child.exitCode}:\n${app.stderr().slice(-3000)}\n${app.stdout().slice(-3000)}`);
    await app?.stop();
    await llm?.close();
    await dir?.remove();
  });

  it('40 concurrent 24 MB webhook POSTs, unsigned and then wrongly signed, are all refused and RSS comes back', async () => {
    const pid = app.child.pid!;
    const body = Buffer.alloc(24 * MB, 0x61);
    // Warm up (first requests load code paths) before the baseline.
    assert.equal(await post(app.url, '/webhooks/github', Buffer.from('{}'), {}), 401);
    const baseline = await settledRss(pid);

    const sampler = sampleRss(pid);
    const unsigned = await Promise.all(Array.from({ length: 40 }, (_, i) => post(app.url, '/webhooks/github', body, { 'x-github-event': 'issues', 'x-github-delivery': `u-${i}` })));
    const forged = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        post(app.url, '/webhooks/github', body, {
          'x-github-event': 'issues',
          'x-github-delivery': `f-${i}`,
          'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
        }),
      ),
    );
    const peak = await sampler.stop();
    const settled = await settledRss(pid);
    const count = (xs: (number | 'closed')[]) =>
      Object.entries(xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {}))
        .map(([k, v]) => `${k}×${v}`)
        .join(' ');
    console.log(`webhook flood: RSS baseline ${baseline.toFixed(0)} MB, peak ${peak.toFixed(0)} MB, after ${settled.toFixed(0)} MB; unsigned: ${count(unsigned)}; forged: ${count(forged)}`);

    for (const s of [...unsigned, ...forged]) assert.ok(s === 401 || s === 503 || s === 'closed', `refused, got ${s}`);
    assert.ok(unsigned.filter((s) => s === 401).length >= 1, 'unsigned POSTs are answered 401');
    assert.ok(
      forged.some((s) => s === 401),
      'some forged bodies are read and checked (401)',
    );
    assert.ok(
      forged.some((s) => s === 503),
      'the rest are refused before their body is read (503)',
    );
    assert.ok(peak - baseline < 100, `peak RSS ${peak.toFixed(0)} MB is within 100 MB of the baseline ${baseline.toFixed(0)} MB`);
    assert.ok(settled - baseline < 50, `RSS after ${settled.toFixed(0)} MB is within 50 MB of the baseline ${baseline.toFixed(0)} MB`);
    // Still serving.
    assert.equal((await fetch(`${app.url}/healthz`)).status, 200);
  });
  it('SSE: one credential holds at most 64 streams, the rest of 2,000 get 429, and the open ones still get a new message promptly', async () => {
    const conversation = 'sse-load';
    const healthz = async () => {
      const t = Date.now();
      assert.equal((await fetch(`${app.url}/healthz`)).status, 200);
      return Date.now() - t;
    };
    const before = await healthz();
    const open: OpenStream[] = [];
    for (let i = 0; i < 64; i++) open.push(await openStream(app.url, conversation, AUTH));
    assert.deepEqual([...new Set(open.map((s) => s.status))], [200]);
    try {
      const extra = await openStream(app.url, conversation, AUTH);
      assert.equal(extra.status, 429);
      const err = JSON.parse(extra.body()) as { error: { code: string; message: string; requestId: string } };
      assert.equal(err.error.code, 'too_many_streams');
      assert.match(err.error.message, /already has 64 chat streams open/);
      assert.ok(err.error.requestId);

      // The rest of 2,000 clients, 200 at a time: every one refused.
      const refused: number[] = [];
      for (let n = 65; n < 2000; n += 200) {
        const batch = await Promise.all(Array.from({ length: Math.min(200, 2000 - n) }, () => openStream(app.url, conversation, AUTH)));
        refused.push(...batch.map((s) => s.status));
      }
      assert.equal(refused.length, 1935);
      assert.deepEqual([...new Set(refused)], [429]);

      // The 64 open streams all see a new message, promptly; the server answers as fast as before.
      const during = await healthz();
      const posted = Date.now();
      const res = await fetch(`${app.url}/api/chat/${conversation}/messages`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'hello, streams', user: 'jeff' }),
      });
      assert.equal(res.status, 202);
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && !open.every((s) => s.body().includes('hello, streams'))) await sleep(10);
      const latency = Date.now() - posted;
      console.log(`SSE: 64 open, 1,936 refused with 429; message on all 64 streams in ${latency} ms; /healthz ${before} ms before, ${during} ms with 64 streams open`);
      assert.ok(
        open.every((s) => s.body().includes('hello, streams')),
        'every open stream got the message',
      );
      assert.ok(latency < 1000, `the message reached every stream in ${latency} ms (under 1 s)`);
      assert.ok(during < 500, `/healthz answered in ${during} ms with the streams open`);
    } finally {
      for (const s of open) s.close();
    }
    // Closing gives the slots back.
    await sleep(200);
    const again = await openStream(app.url, conversation, AUTH);
    assert.equal(again.status, 200);
    again.close();
  });
});
