import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { createTestDatabase, postgresSkip } from '../support/postgres.js';
import { testRedisUrl, uniquePrefix, deleteKeys } from '../support/redis.js';
import { CLI, REPO_ROOT, cleanEnv, getMessages, postMessage, runCli, startPantheonProcess, tempDir, waitForMessage, modelEnv } from '../support/pantheon-process.js';

/**
 * Postgres + Redis: `pantheon start --no-workers` takes messages in, a separate `pantheon worker`
 * process runs the persona and posts the reply; the server's SSE/GET see it.
 */
describe('pantheon worker with DATABASE_URL and REDIS_URL', { skip: postgresSkip }, () => {
  let fake: FakeLLM;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let databaseUrl: string;
  const prefix = uniquePrefix('e2e-worker');
  before(async () => {
    fake = await startFakeLLM();
    database = await createTestDatabase('e2e_worker');
    databaseUrl = database.url;
  });
  after(async () => {
    await fake?.close();
    await database?.drop();
    await deleteKeys(testRedisUrl(), prefix);
  });

  it('a separate worker process answers what the server took in', async () => {
    const dir = await tempDir();
    const env = modelEnv(fake, { DATABASE_URL: databaseUrl, REDIS_URL: testRedisUrl(), PANTHEON_QUEUE_PREFIX: prefix });
    const server = await startPantheonProcess({ env, dataDir: dir.path, args: ['--no-workers'] });
    const worker = spawn(process.execPath, [CLI, 'worker'], { env, cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let workerOut = '';
    worker.stdout.on('data', (d) => (workerOut += d));
    worker.stderr.on('data', (d) => (workerOut += d));
    try {
      const health = (await (await fetch(`${server.url}/healthz`)).json()) as { database?: string; queue?: string };
      assert.equal(health.database, 'postgres');
      assert.equal(health.queue, 'bullmq');
      for (let i = 0; i < 200 && !workerOut.includes('pantheon is ready'); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(workerOut, /pantheon is ready/);

      fake.enqueue({ text: 'answered by the worker' });
      await postMessage(server.url, 'split', { text: '@perseus check the auth flow', user: 'alice' });
      const reply = await waitForMessage(server.url, 'split', (m) => m.role === 'agent', 20_000);
      assert.equal(reply.persona, 'perseus');
      assert.equal(reply.text, 'answered by the worker');
      assert.equal((await getMessages(server.url, 'split')).length, 2);
    } finally {
      const exited = new Promise<number | null>((r) => worker.once('exit', r));
      worker.kill('SIGTERM');
      assert.equal(await exited, 0, workerOut);
      assert.equal(await server.stop(), 0);
      await dir.remove();
    }
  });

  it('refuses to run a worker without Redis, or --no-workers without Redis, with exit code 2', async () => {
    const worker = await runCli(['worker'], { env: cleanEnv({ DATABASE_URL: databaseUrl }) });
    assert.equal(worker.code, 2);
    assert.match(worker.stderr, /REDIS_URL/);
    const dir = await tempDir();
    try {
      const start = await runCli(['start', '--no-workers', '--data-dir', dir.path, '--port', '0'], { env: cleanEnv() });
      assert.equal(start.code, 2);
      assert.match(start.stderr, /REDIS_URL/);
    } finally {
      await dir.remove();
    }
  });
});
