import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { get, request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPantheon, type Pantheon } from '../../cli/app.js';
import { boundedBody } from '../../core/http/body-budget.js';
import { createHttpServer } from '../../core/http/index.js';
import { createLogger } from '../../core/log.js';
import { createMetrics } from '../../core/metrics.js';
import { modelEnv, tempDir } from '../support/pantheon-process.js';

const logger = createLogger({ level: 'silent' });
const MB = 1024 * 1024;

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: () => string;
  close: () => void;
}

/** `GET /api/chat/<c>/stream`; resolves once the head (and, for an error, the body) is in. */
function openStream(url: string, conversation: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = get(`${url}/api/chat/${conversation}/stream`, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('error', () => {});
      const answer = { status: res.statusCode ?? 0, headers: res.headers, body: () => body, close: () => req.destroy() };
      if (res.statusCode === 200) resolve(answer);
      else res.on('end', () => resolve(answer));
    });
    req.on('error', reject);
  });
}

/** A POST whose body is `size` bytes, sent declared (content-length) or chunked; resolves with the answer. */
function postBody(url: string, path: string, size: number, headers: Record<string, string>, declared: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'POST', headers: { ...headers, ...(declared ? { 'content-length': String(size) } : {}) } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The server may answer and close before the whole body is sent.
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    const line = Buffer.from(`${JSON.stringify({ kind: 'fact', scope: 'team', text: 'x'.repeat(1000) })}\n`);
    let sent = 0;
    const write = () => {
      while (sent < size) {
        const chunk = line.subarray(0, Math.min(line.length, size - sent));
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

describe('server.limits from pantheon.yaml reach the routes', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let app: Pantheon;
  let auth: Record<string, string>;

  before(async () => {
    dir = await tempDir('pantheon-limits-');
    await writeFile(join(dir.path, 'pantheon.yaml'), 'server:\n  limits:\n    streamsPerCredential: 2\n    memoryImportMb: 1\n');
    app = await startPantheon({ cwd: dir.path, env: modelEnv({ openaiBaseUrl: 'http://127.0.0.1:9/v1' }), dataDir: join(dir.path, 'data'), port: 0, logger, modules: [] });
    auth = { authorization: `Bearer ${app.consoleToken}` };
  });
  after(async () => {
    await app?.stop();
    await dir?.remove();
  });

  it('streamsPerCredential: 2 → the third stream of one credential is refused with 429 and our JSON error; a closed one frees its slot', async () => {
    const first = await openStream(app.url!, 'general', auth);
    const second = await openStream(app.url!, 'ops', auth);
    try {
      assert.deepEqual([first.status, second.status], [200, 200]);
      const third = await openStream(app.url!, 'general', auth);
      assert.equal(third.status, 429, third.body());
      assert.equal(third.headers['retry-after'], '5');
      const { error } = JSON.parse(third.body()) as { error: { code: string; message: string; requestId: string } };
      assert.equal(error.code, 'too_many_streams');
      assert.match(error.message, /^this credential already has 2 chat streams open/);
      assert.ok(error.requestId);

      first.close();
      let again: Answer | undefined;
      for (let i = 0; i < 50 && again?.status !== 200; i++) {
        again?.close();
        await new Promise((r) => setTimeout(r, 20));
        again = await openStream(app.url!, 'general', auth);
      }
      assert.equal(again!.status, 200, 'the closed stream gave its slot back');
      again!.close();
    } finally {
      first.close();
      second.close();
    }
  });

  it('memoryImportMb: 1 → a larger import is refused with 413, declared or streamed', async () => {
    const ndjson = { ...auth, 'content-type': 'application/x-ndjson' };
    const declared = await postBody(app.url!, '/api/memory/import', 2 * MB, ndjson, true);
    assert.equal(declared.status, 413, declared.body);
    assert.match(declared.body, /larger than its limit of 1048576 bytes/);
    const streamed = await postBody(app.url!, '/api/memory/import', 1.5 * MB, ndjson, false);
    assert.equal(streamed.status, 413, streamed.body);
    assert.match(streamed.body, /payload_too_large/);
  });
});

describe("the unverified-body budget is the server's own", () => {
  it('a body that does not fit in a small budget is refused with 503 before it is read; one that fits passes', async () => {
    const http = createHttpServer({ logger, metrics: createMetrics(), bodyLimitBytes: 1 << 20, consoleToken: 'token-0123456789abcdef', ready: () => true, unverifiedBodyBudgetBytes: 1000 });
    // Registered in a child scope, as the webhook routes are: the budget is inherited.
    await http.register(async (scope) => {
      scope.post('/webhooks/test', { config: { public: true }, onRequest: boundedBody({ limitBytes: 4000 }) }, async () => ({ ok: true }));
    });
    try {
      assert.equal(http.unverifiedBodies?.capacityBytes, 1000);
      const big = await http.inject({ method: 'POST', url: '/webhooks/test', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ x: 'y'.repeat(1500) }) });
      assert.equal(big.statusCode, 503, big.body);
      assert.equal(big.json().error.code, 'busy');
      const small = await http.inject({ method: 'POST', url: '/webhooks/test', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ x: 'y' }) });
      assert.equal(small.statusCode, 200, small.body);
      assert.equal(http.unverifiedBodies?.inUseBytes, 0, 'the reservation was given back');
    } finally {
      await http.close();
    }
  });
});
