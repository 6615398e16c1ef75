import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_CONVERSATION_ID_LENGTH } from '../../core/http/path-params.js';
import { cleanEnv, runCli, startPantheonProcess, tempDir, type RunningPantheon } from '../support/pantheon-process.js';

/** The real `pantheon` process: configuration errors (exit 2), the data-dir lock, the conversation id limit. */
const TOKEN = 'e2e-config-lock-token-0123456789abcdef';
const SECRET = 'hunter2-do-not-print-me';
// A model that is never reached (nothing listens on port 9): starting needs one configured, these tests never need an answer.
const env = (extra: Record<string, string> = {}) =>
  cleanEnv({ PANTHEON_CONSOLE_TOKEN: TOKEN, PANTHEON_MODEL: 'openai:gpt-4.1-mini', OPENAI_API_KEY: 'sk-test-unused', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', ...extra });
const auth = { authorization: `Bearer ${TOKEN}` };

describe('configuration errors exit 2 and never print a value that came from a variable', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir('pantheon-config-e2e-');
  });
  after(async () => {
    await dir.remove();
  });

  it('a secret in a mistyped field: the error names ${SECRET_VAR}, not its value', async () => {
    writeFileSync(join(dir.path, 'pantheon.yaml'), 'server:\n  port: "${SECRET_VAR}"\n');
    const run = await runCli(['start', '--data-dir', join(dir.path, 'data')], { env: env({ SECRET_VAR: SECRET }), cwd: dir.path });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /pantheon\.yaml: server\.port: expected a number, got the value of \$SECRET_VAR/);
    assert.ok(!run.stderr.includes(SECRET) && !run.stdout.includes(SECRET), 'the secret is never printed');
  });

  it('a malformed redis.url: exit 2 naming the field, no TypeError', async () => {
    writeFileSync(join(dir.path, 'pantheon.yaml'), 'redis:\n  url: "redis//cache:6379"\n');
    const run = await runCli(['start', '--data-dir', join(dir.path, 'data')], { env: env(), cwd: dir.path });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /pantheon\.yaml: redis\.url: expected a redis:\/\/ or rediss:\/\/ URL/);
    assert.doesNotMatch(run.stderr, /TypeError|Invalid URL/);
  });

  it('a malformed REDIS_URL: exit 2 naming redis.url and the variable', async () => {
    writeFileSync(join(dir.path, 'pantheon.yaml'), '{}\n');
    const run = await runCli(['start', '--data-dir', join(dir.path, 'data')], { env: env({ REDIS_URL: `redis://:${SECRET}@cache:notaport` }), cwd: dir.path });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /redis\.url: .*got the value of \$REDIS_URL/);
    assert.ok(!run.stderr.includes(SECRET));
  });
});

describe('the data-dir lock and the conversation id limit, on a running pantheon', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let running: RunningPantheon | undefined;
  before(async () => {
    dir = await tempDir('pantheon-lock-e2e-');
  });
  after(async () => {
    await running?.stop();
    await dir.remove();
  });
  const dataDir = () => join(dir.path, 'data');
  const lockFile = () => join(dataDir(), 'pgdata.lock');

  it('a second live start on the same data dir is refused, naming the owner', async () => {
    running = await startPantheonProcess({ env: env(), dataDir: dataDir(), cwd: dir.path, timeoutMs: 60_000 });
    const second = await runCli(['start', '--data-dir', dataDir(), '--port', '0'], { env: env(), cwd: dir.path, timeoutMs: 60_000 });
    assert.notEqual(second.code, 0);
    assert.match(second.stderr + second.stdout, new RegExp(`in use by another Pantheon process \\(pid ${running.child.pid}, lock file ${lockFile().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
  });

  it(`conversation ids: ${MAX_CONVERSATION_ID_LENGTH} characters answer, one more is our JSON 414 naming the limit`, async () => {
    const url = running!.url;
    const atLimit = 'c'.repeat(MAX_CONVERSATION_ID_LENGTH);
    const post = await fetch(`${url}/api/chat/${atLimit}/messages`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hello' }) });
    assert.equal(post.status, 202, await post.text());
    const get = await fetch(`${url}/api/chat/${atLimit}/messages`, { headers: auth });
    assert.equal(get.status, 200);
    const over = await fetch(`${url}/api/chat/${atLimit}x/messages`, { headers: auth });
    assert.equal(over.status, 414);
    const body = (await over.json()) as { error: { code: string; message: string; requestId: string } };
    assert.equal(body.error.code, 'uri_too_long');
    assert.match(body.error.message, new RegExp(`at most ${MAX_CONVERSATION_ID_LENGTH}\\b`));
    assert.equal(body.error.requestId, over.headers.get('x-request-id'));
    // A name the route refuses for its characters gets the same rule, with the same number.
    const bad = await fetch(`${url}/api/chat/-bad/messages`, { headers: auth });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, new RegExp(`at most ${MAX_CONVERSATION_ID_LENGTH} characters`));
  });

  it('kill -9, a lock file that records another host: the next start starts', async () => {
    const child = running!.child;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    running = undefined;
    // As after a container is recreated: the record names a host (and a pid) that are not this one's.
    const record = JSON.parse(readFileSync(lockFile(), 'utf8')) as { pid: number; hostname: string };
    writeFileSync(lockFile(), JSON.stringify({ ...record, pid: process.pid, hostname: 'container-that-is-gone' }));
    running = await startPantheonProcess({ env: env(), dataDir: dataDir(), cwd: dir.path, timeoutMs: 60_000 });
    const health = await fetch(`${running.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(JSON.parse(readFileSync(lockFile(), 'utf8')).pid, running.child.pid, 'the new process recorded itself');
  });
});
