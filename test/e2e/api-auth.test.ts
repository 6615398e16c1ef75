import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { startPantheon } from '../../cli/app.js';
import { createLogger } from '../../core/log.js';
import { routesOf, type RegisteredRoute } from '../../core/http/index.js';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { cleanEnv, modelEnv, runCli, startPantheonProcess, tempDir, type RunningPantheon } from '../support/pantheon-process.js';

/**
 * Deny by default, proved on the real process: every route `pantheon start` registers (read from
 * the same configuration built in this process, all modules it turns on) answers 401 without
 * the token, for its own path and for encoded, doubled, upper-case and dotted spellings of it,
 * unless it is public; with the token it answers as usual.
 */
const CONFIG = [
  'github:',
  '  apiUrl: http://127.0.0.1:9',
  '  webhookSecret: whsec-route-test-0123456789',
  '  throttle: false',
  'infra:',
  '  hosts:',
  '    - { name: staging-1, address: 127.0.0.1, user: deploy, agent: true }',
  '',
].join('\n');

const GITHUB_TOKENS = Object.fromEntries(['APOLLO', 'ARTEMIS', 'ATHENA', 'HERMES', 'PERSEUS', 'HEPHAESTUS'].map((p) => [`${p}_GITHUB_TOKEN`, `ghp_test_${p.toLowerCase()}_0123456789`]));

/** A path for a route pattern: `:param` and `*` filled with harmless values. */
function samplePath(url: string): string {
  return url.replace(/:[A-Za-z_]+(\([^)]*\))?/g, 'x1').replace(/\*/g, 'x1');
}

/** Other spellings of a path that a router or a proxy may take for it. */
function spellings(path: string): string[] {
  const [first, ...rest] = path.slice(1).split('/');
  const tail = rest.length ? `/${rest.join('/')}` : '';
  const hex = (c: string) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  const variants = [
    `/${hex(first![0]!)}${first!.slice(1)}${tail}`,
    `/${hex(first![0]!).toUpperCase()}${first!.slice(1)}${tail}`,
    `/${first!.slice(0, -1)}${hex(first!.at(-1)!)}${tail}`,
    `//${first}${tail}`,
    `/${first}/${tail}`,
    `/${first!.toUpperCase()}${tail}`,
    `/${first}.${tail}`,
    `/${first}/.${tail}`,
    `${path}/`,
    `${path.slice(0, -1)}${hex(path.at(-1)!)}`,
  ];
  return [...new Set(variants)].filter((v) => v !== path);
}

function raw(base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method, headers }, (res) => {
      // Streams (SSE) never end: their status is enough.
      if (method === 'HEAD' || res.headers['content-type']?.includes('event-stream')) {
        req.destroy();
        return resolve({ status: res.statusCode!, body: '' });
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', () => resolve({ status: res.statusCode!, body }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(['POST', 'PUT', 'PATCH'].includes(method) ? '' : undefined);
  });
}

const unusedPort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe('every route needs the API token unless it is public (the real process)', () => {
  let fake: FakeLLM;
  let dir: { path: string; remove: () => Promise<void> };
  let routes: RegisteredRoute[];
  let app: RunningPantheon;

  before(async () => {
    fake = await startFakeLLM();
    dir = await tempDir();
    await writeFile(join(dir.path, 'pantheon.yaml'), CONFIG);
    const env = modelEnv(fake, GITHUB_TOKENS);
    // The routes, as `pantheon start` registers them with this configuration.
    const inProcess = await startPantheon({ cwd: dir.path, env, dataDir: join(dir.path, 'listing'), port: 0, logger: createLogger({ level: 'silent' }) });
    try {
      routes = routesOf(inProcess.http!);
    } finally {
      await inProcess.stop();
    }
    app = await startPantheonProcess({ env, dataDir: join(dir.path, 'data'), cwd: dir.path });
  });
  after(async () => {
    await app?.stop();
    await dir?.remove();
    await fake?.close();
  });

  it("enumerates the modules' routes too", () => {
    const urls = new Set(routes.map((r) => r.url));
    for (const url of [
      '/healthz',
      '/metrics',
      '/api/chat/:conversation/messages',
      '/api/chat/:conversation/stream',
      '/api/audit',
      '/api/work',
      '/api/memory',
      '/api/schedules',
      '/api/schedules/:name/run',
      '/api/personas',
      '/api/approvals/stream',
      '/webhooks/github',
    ]) {
      assert.ok(urls.has(url), `${url} is registered (have ${[...urls].join(', ')})`);
    }
    assert.ok(
      [...urls].some((u) => u.startsWith('/api/jobs')),
      "the infra module's job routes are registered",
    );
    const open = new Set(routes.filter((r) => r.public && !r.url.startsWith('/webhooks/')).map((r) => r.url));
    assert.ok(
      // The console's sign-in page and form: a login link is the credential they check.
      [...open].every((u) => ['/healthz', '/readyz', '/metrics', '/auth/login'].includes(u)),
      `public besides webhooks: ${[...open].join(', ')}`,
    );
  });

  it('without credentials every non-public route answers 401, whatever the spelling of its path; with the token, as usual', async () => {
    const checked: string[] = [];
    for (const route of routes) {
      const path = samplePath(route.url);
      if (route.public) {
        const res = await raw(app.url, route.method, path);
        // A webhook refuses an unsigned request itself (401), never asking for the bearer token.
        assert.doesNotMatch(res.body, /Authorization: Bearer/, `${route.method} ${path} is public: ${res.status} ${res.body}`);
        continue;
      }
      for (const p of [path, ...spellings(path)]) {
        const res = await raw(app.url, route.method, p);
        assert.equal(res.status, 401, `${route.method} ${p} (route ${route.url}) without a token: ${res.status} ${res.body.slice(0, 200)}`);
        if (route.method !== 'HEAD') assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'unauthorized');
        const wrong = await raw(app.url, route.method, p, { authorization: 'Bearer not-the-token' });
        assert.equal(wrong.status, 401, `${route.method} ${p} with a wrong token`);
        checked.push(`${route.method} ${p}`);
      }
      // HEAD of an event stream sends no headers until an event comes: a timeout there is no refusal.
      const authed = await raw(app.url, route.method, path, app.auth).catch((err: Error) => {
        if (route.method === 'HEAD' && route.url.endsWith('/stream')) return { status: 200, body: '' };
        throw err;
      });
      assert.notEqual(authed.status, 401, `${route.method} ${path} with the token`);
      assert.ok(authed.status < 500, `${route.method} ${path} with the token answers without a server error: ${authed.status} ${authed.body.slice(0, 200)}`);
    }
    assert.ok(checked.length > 100, `checked ${checked.length} requests`);
    // Paths no route matches tell nothing without the token either.
    for (const p of ['/nope', '/api/nope', '/%2e%2e/etc/passwd', '/api/chat/x1/messages/../../../audit']) {
      assert.equal((await raw(app.url, 'GET', p)).status, 401, p);
    }
  });

  it('a DNS-rebinding page (Host: evil.example) gets 421, even with the token', async () => {
    const res = await raw(app.url, 'GET', '/api/chat/general/messages', { ...app.auth, host: 'evil.example' });
    assert.equal(res.status, 421);
    assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'misdirected_request');
    assert.equal((await raw(app.url, 'GET', '/api/chat/general/messages', { ...app.auth, host: 'localhost' })).status, 200);
  });
});

describe('without any configuration the CLI finds the server and its token by itself', () => {
  it('pantheon chat, work, audit, memory and token work without flags in the directory `pantheon start` runs in', async () => {
    const fake = await startFakeLLM();
    const dir = await tempDir();
    const port = await unusedPort();
    const env = modelEnv(fake, { PORT: String(port) });
    await mkdir(join(dir.path, 'work'));
    const cwd = join(dir.path, 'work');
    const app = await startPantheonProcess({ env, dataDir: '.pantheon', cwd, args: ['--port', String(port)] });
    try {
      assert.equal(app.url, `http://127.0.0.1:${port}`);
      assert.equal((await fetch(`${app.url}/api/audit`)).status, 401);
      const cli = (...args: string[]) => runCli(args, { env: cleanEnv({ PORT: String(port) }), cwd });
      fake.enqueue({ text: 'pong without flags' });
      const chat = await cli('chat', '--once', '@apollo ping');
      assert.equal(chat.code, 0, chat.stderr);
      assert.match(chat.stdout, /\[apollo\] pong without flags/);
      for (const args of [
        ['work', '--json'],
        ['audit', '--json'],
        ['memory', 'stats', '--json'],
        ['memory', 'list', '--json'],
      ]) {
        const res = await cli(...args);
        assert.equal(res.code, 0, `pantheon ${args.join(' ')}: ${res.stderr}`);
        assert.doesNotMatch(res.stderr, /console token/);
      }
      const token = await cli('token');
      assert.equal(token.code, 0, token.stderr);
      assert.equal(token.stdout.trim(), app.token);
      const curl = await fetch(`${app.url}/api/chat/terminal/messages`, { headers: { authorization: `Bearer ${token.stdout.trim()}` } });
      assert.equal(curl.status, 200);
      const wrongDir = await runCli(['audit', '--data-dir', join(dir.path, 'elsewhere')], { env: cleanEnv({ PORT: String(port) }), cwd });
      assert.equal(wrongDir.code, 1);
      assert.match(wrongDir.stderr, /the server needs a console token; set PANTHEON_CONSOLE_TOKEN, or pass the --data-dir the server uses/);
    } finally {
      await app.stop();
      await dir.remove();
      await fake.close();
    }
  });
});
