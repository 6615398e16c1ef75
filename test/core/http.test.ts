import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { createLogger } from '../../core/log.js';
import { createMetrics } from '../../core/metrics.js';
import { createHttpServer, HttpError, listen, redactQuery, type ErrorBody } from '../../core/http/index.js';

const logger = createLogger({ level: 'silent' });
const BODY_LIMIT = 64 * 1024;

interface Running {
  app: FastifyInstance;
  url: string;
  setReady(value: boolean): void;
}

const TOKEN = 'console-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };

/** fetch with the bearer token. */
function authed(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { ...AUTH, ...(init.headers as Record<string, string> | undefined) } });
}

async function start(opts: { consoleToken?: string; allowedHosts?: string[]; host?: string } = {}): Promise<Running> {
  let ready = false;
  const app = createHttpServer({
    logger,
    metrics: createMetrics(),
    bodyLimitBytes: BODY_LIMIT,
    consoleToken: opts.consoleToken ?? TOKEN,
    allowedHosts: opts.allowedHosts,
    ready: async () => ready,
    healthDetails: () => ({ personas: 6, database: 'pglite' }),
  });
  app.post('/api/echo', async (request) => ({ received: request.body }));
  app.get('/api/boom', async () => {
    throw new Error('connection to 10.1.2.3 failed: password authentication failed for user "pantheon"');
  });
  app.get('/api/teapot', async () => {
    throw new HttpError(409, 'already_approved', 'approval 42 was already approved');
  });
  app.post('/api/typed', { schema: { body: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } } } }, async () => ({ ok: true }));
  app.post('/webhooks/probe', async () => ({ ok: true }));
  app.get('/sign-in', { config: { public: true } }, async () => ({ page: 'sign in' }));
  app.get('/api/chat/:conversation/messages', async (request) => ({ conversation: (request.params as { conversation: string }).conversation }));
  const { url } = await listen(app, { host: opts.host ?? '127.0.0.1', port: 0 });
  return {
    app,
    url,
    setReady: (v) => {
      ready = v;
    },
  };
}

function assertErrorShape(body: unknown, status: { code: string; requestId?: string }): void {
  const error = (body as { error?: Record<string, unknown> }).error;
  assert.ok(error, `an {error: ...} body, got ${JSON.stringify(body)}`);
  assert.deepEqual(Object.keys(error).sort(), ['code', 'message', 'requestId']);
  assert.equal(error.code, status.code);
  assert.equal(typeof error.message, 'string');
  if (status.requestId) assert.equal(error.requestId, status.requestId);
}

describe('HTTP server', () => {
  let server: Running;
  before(async () => {
    server = await start();
  });
  after(async () => {
    await server.app.close();
  });

  test('listen reports a loopback URL', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('/healthz is 503 "starting" until ready, then 200 "ok" with details', async () => {
    const before = await fetch(`${server.url}/healthz`);
    assert.equal(before.status, 503);
    assert.deepEqual(await before.json(), { status: 'starting' });
    server.setReady(true);
    const afterReady = await fetch(`${server.url}/healthz`);
    assert.equal(afterReady.status, 200);
    assert.deepEqual(await afterReady.json(), { status: 'ok', personas: 6, database: 'pglite' });
  });

  test('/metrics serves Prometheus text with the pantheon_ instruments', async () => {
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    for (const name of ['pantheon_inbound_events_total', 'pantheon_runs_total', 'pantheon_model_tokens_total', 'pantheon_queue_depth', 'pantheon_process_resident_memory_bytes']) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is exposed`);
    }
  });

  test('an unknown route is a JSON 404', async () => {
    const res = await authed(`${server.url}/nope?x=1`, { headers: { 'x-request-id': 'trace-404' } });
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('x-request-id'), 'trace-404');
    const body = (await res.json()) as ErrorBody;
    assertErrorShape(body, { code: 'not_found', requestId: 'trace-404' });
    assert.equal(body.error.message, 'no route for GET /nope');
  });

  test('a thrown error is a JSON 500 without internals', async () => {
    const res = await authed(`${server.url}/api/boom`);
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.ok(!text.includes('10.1.2.3') && !text.includes('password') && !text.includes('at '), `no internals in ${text}`);
    const body = JSON.parse(text);
    assertErrorShape(body, { code: 'internal_error', requestId: res.headers.get('x-request-id')! });
  });

  test('an HttpError keeps its status, code and message', async () => {
    const res = await authed(`${server.url}/api/teapot`);
    assert.equal(res.status, 409);
    const body = (await res.json()) as ErrorBody;
    assertErrorShape(body, { code: 'already_approved' });
    assert.equal(body.error.message, 'approval 42 was already approved');
  });

  test('bad JSON and schema violations are JSON 400s', async () => {
    const bad = await authed(`${server.url}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text": ' });
    assert.equal(bad.status, 400);
    assertErrorShape(await bad.json(), { code: 'bad_request' });
    const invalid = await authed(`${server.url}/api/typed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"txt": "hi"}' });
    assert.equal(invalid.status, 400);
    const body = (await invalid.json()) as ErrorBody;
    assertErrorShape(body, { code: 'validation_failed' });
    assert.match(body.error.message, /text/);
  });

  test('request ids: a sane incoming id is echoed, an insane one replaced, none generated', async () => {
    const given = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'abc-123.X:y_z' } });
    assert.equal(given.headers.get('x-request-id'), 'abc-123.X:y_z');
    const insane = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'has spaces and "quotes"' } });
    assert.match(insane.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const tooLong = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'a'.repeat(129) } });
    assert.match(tooLong.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const a = await fetch(`${server.url}/healthz`);
    const b = await fetch(`${server.url}/healthz`);
    assert.notEqual(a.headers.get('x-request-id'), b.headers.get('x-request-id'));
  });

  test('a 1 MB body is a JSON 413 naming the limit, and the server still answers', async () => {
    const big = JSON.stringify({ text: 'x'.repeat(1024 * 1024) });
    const res = await authed(`${server.url}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    assert.equal(res.status, 413);
    const body = (await res.json()) as ErrorBody;
    assertErrorShape(body, { code: 'payload_too_large' });
    assert.match(body.error.message, new RegExp(`${BODY_LIMIT} bytes`));
    const small = await authed(`${server.url}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"hi"}' });
    assert.equal(small.status, 200);
    assert.deepEqual(await small.json(), { received: { text: 'hi' } });
  });

  test('query values that look secret are redacted for the log', () => {
    assert.equal(redactQuery('/webhooks/x?token=abc&page=2&api_key=k&access_token=t'), '/webhooks/x?token=[REDACTED]&page=2&api_key=[REDACTED]&access_token=[REDACTED]');
    assert.equal(redactQuery('/plain'), '/plain');
  });
});

describe('HTTP server with a console token', () => {
  const token = TOKEN;
  let server: Running;
  before(async () => {
    server = await start();
    server.setReady(true);
  });
  after(async () => {
    await server.app.close();
  });

  test('/api/* needs the bearer token', async () => {
    const none = await fetch(`${server.url}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    assertErrorShape(await none.json(), { code: 'unauthorized' });

    const wrong = await fetch(`${server.url}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}x` }, body: '{}' });
    assert.equal(wrong.status, 401);
    assertErrorShape(await wrong.json(), { code: 'unauthorized' });

    const basic = await fetch(`${server.url}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Basic ${token}` }, body: '{}' });
    assert.equal(basic.status, 401);

    const unknown = await fetch(`${server.url}/api/does-not-exist`);
    assert.equal(unknown.status, 401, 'an unknown /api route does not reveal that it is unknown');
    const elsewhere = await fetch(`${server.url}/anything/else`);
    assert.equal(elsewhere.status, 401, 'deny by default: not only /api');

    const right = await fetch(`${server.url}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{"a":1}' });
    assert.equal(right.status, 200);
    assert.deepEqual(await right.json(), { received: { a: 1 } });
  });

  test('/healthz, /metrics, /webhooks/* and routes marked public stay open', async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${server.url}/metrics`)).status, 200);
    assert.equal((await fetch(`${server.url}/webhooks/probe`, { method: 'POST' })).status, 200);
    assert.equal((await fetch(`${server.url}/sign-in`)).status, 200);
  });

  test('the decision is made on the matched route: encoded, doubled, upper-case and dotted paths need the token too', async () => {
    const variants = [
      '/%61pi/chat/general/messages',
      '/a%70i/chat/general/messages',
      '/%41PI/chat/general/messages',
      '/api/chat/general/%6dessages',
      '/api//chat/general/messages',
      '//api/chat/general/messages',
      '/API/chat/general/messages',
      '/Api/chat/general/messages',
      '/api./chat/general/messages',
      '/api/./chat/general/messages',
      '/api/chat/../chat/general/messages',
      '/api%2Fchat/general/messages',
      '/api/chat/general/messages/',
      '/api/chat/general/messages?x=/healthz',
      '/api/chat/general/messages;/healthz',
      '/api/chat/general/messages#/healthz',
      '/healthz/../api/chat/general/messages',
      '/webhooks/../api/chat/general/messages',
      '/webhooks/%2e%2e/api/chat/general/messages',
    ];
    for (const path of variants) {
      const res = await rawGet(server.url, path);
      assert.equal(res.status, 401, `GET ${path} without a token answers 401, got ${res.status}: ${res.body}`);
      assert.doesNotMatch(res.body, /"conversation"/, `GET ${path} did not reach the route`);
    }
    // With the token, the router's decoding is back: /%61pi reaches the route it matched.
    const encoded = await rawGet(server.url, '/%61pi/chat/general/messages', AUTH);
    assert.equal(encoded.status, 200);
    assert.deepEqual(JSON.parse(encoded.body), { conversation: 'general' });
  });

  test("a Host header that is not one of this server's names gets 421 (DNS rebinding)", async () => {
    for (const host of ['evil.example', 'evil.example:3000', 'localhost.evil.example', '127.0.0.1.evil.example', '']) {
      const res = await rawGet(server.url, '/api/chat/general/messages', { ...AUTH, host });
      assert.equal(res.status, 421, `Host: ${host}`);
      assertErrorShape(JSON.parse(res.body), { code: 'misdirected_request' });
    }
    for (const host of ['localhost', 'LOCALHOST:3000', '127.0.0.1:1', '[::1]:3000', 'localhost.', '10.0.0.5:3000']) {
      const res = await rawGet(server.url, '/api/chat/general/messages', { ...AUTH, host });
      assert.equal(res.status, 200, `Host: ${host}`);
    }
    const rebindProbe = await rawGet(server.url, '/healthz', { host: 'evil.example' });
    assert.equal(rebindProbe.status, 421, 'probes are not answered to a foreign name either');
    const webhook = await rawGet(server.url, '/webhooks/probe', { host: 'pantheon.example.com' }, 'POST');
    assert.equal(webhook.status, 200, 'platforms call webhooks by the public name; they are signed');
  });
});

describe('HTTP server Host names', () => {
  test('server.allowedHosts and the bound address are served', async () => {
    const server = await start({ allowedHosts: ['pantheon.example.com'] });
    try {
      assert.equal((await rawGet(server.url, '/api/chat/x/messages', { ...AUTH, host: 'Pantheon.Example.com:443' })).status, 200);
      assert.equal((await rawGet(server.url, '/api/chat/x/messages', { ...AUTH, host: 'other.example.com' })).status, 421);
    } finally {
      await server.app.close();
    }
    const open = await start({ allowedHosts: ['*'] });
    try {
      assert.equal((await rawGet(open.url, '/api/chat/x/messages', { ...AUTH, host: 'anything.example' })).status, 200);
    } finally {
      await open.app.close();
    }
  });

  test('createHttpServer refuses to run without a token', () => {
    assert.throws(() => createHttpServer({ logger, metrics: createMetrics(), bodyLimitBytes: 1024, consoleToken: '', ready: () => true }), /needs a console token/);
  });

  test('listen binds 127.0.0.1 when no host is given', async () => {
    const app = createHttpServer({ logger, metrics: createMetrics(), bodyLimitBytes: 1024, consoleToken: TOKEN, ready: () => true });
    try {
      const { url } = await listen(app, { port: 0 });
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal((app.server.address() as { address: string }).address, '127.0.0.1');
    } finally {
      await app.close();
    }
  });
});

/** A request whose path and Host header go out exactly as written (fetch would normalise them). */
function rawGet(base: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method, headers: { host: `${hostname}:${port}`, ...headers }, setHost: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
