import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BullQueue } from '../../core/queue/index.js';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { createTestDatabase, postgresSkip } from '../support/postgres.js';
import { deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis.js';
import { CLI, REPO_ROOT, modelEnv, postMessage, startPantheonProcess, tempDir, waitForMessage, type RunningPantheon } from '../support/pantheon-process.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface JobJson {
  id: string;
  status: string;
  attempts: number;
  idempotent: boolean;
  command: string;
  error: string | null;
}

/** `pantheon worker`, resolved once it says it is ready. */
async function startWorker(env: NodeJS.ProcessEnv, cwd: string): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [CLI, 'worker'], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  for (let i = 0; i < 1200 && !out.includes('pantheon is ready'); i++) {
    if (child.exitCode !== null) throw new Error(`worker exited early:\n${out}`);
    await sleep(50);
  }
  assert.match(out, /pantheon is ready/);
  return { child, output: () => out };
}

const runs = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);

/**
 * BullMQ on the real Redis, the real Postgres: `pantheon start --no-workers` takes messages in,
 * `pantheon worker` processes run the persona and the jobs. A worker killed mid-job: the job
 * survives it, and nothing runs twice that should not.
 */
describe('infra jobs with BullMQ: a worker restart', { skip: postgresSkip }, () => {
  let fake: FakeLLM;
  let sshd: TestSshd;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const prefix = uniquePrefix('e2e-infra-worker');

  before(async () => {
    fake = await startFakeLLM();
    sshd = await startSshd();
    database = await createTestDatabase('e2e_infra_worker');
    dir = await tempDir();
    writeFileSync(
      join(dir.path, 'pantheon.yaml'),
      [
        'infra:',
        `  knownHosts: ${sshd.knownHosts}`,
        '  hosts:',
        `    - { name: lab-1, address: 127.0.0.1, port: ${sshd.port}, user: ${sshd.user}, privateKey: ${sshd.clientKey}, policy: { risk: read } }`,
        '  jobs: { waitSeconds: 1, staleAfterSeconds: 3, progressIntervalMs: 300 }',
      ].join('\n'),
    );
  });

  after(async () => {
    await fake?.close();
    await sshd?.stop();
    await database?.drop();
    await deleteKeys(testRedisUrl(), prefix);
    await dir?.remove();
  });

  it('a non-idempotent job is reported interrupted and never re-run; an idempotent one is run again and finishes', async () => {
    const env = modelEnv(fake, { DATABASE_URL: database.url, REDIS_URL: testRedisUrl(), PANTHEON_QUEUE_PREFIX: prefix });
    const once = join(dir.path, 'once.txt');
    const twice = join(dir.path, 'twice.txt');
    let server: RunningPantheon | undefined;
    let a: Awaited<ReturnType<typeof startWorker>> | undefined;
    let b: Awaited<ReturnType<typeof startWorker>> | undefined;
    try {
      server = await startPantheonProcess({ env, dataDir: join(dir.path, 'data'), cwd: dir.path, args: ['--no-workers'], timeoutMs: 60_000 });
      a = await startWorker(env, dir.path);
      fake.enqueue(
        {
          toolCalls: [
            { name: 'run_command', args: { host: 'lab-1', command: `echo run >> ${once}; sleep 6; echo finished` } },
            { name: 'run_command', args: { host: 'lab-1', command: `echo run >> ${twice}; sleep 6; echo finished`, idempotent: true } },
          ],
        },
        { text: 'Both jobs are running.' },
      );
      await postMessage(server.url, 'restart', { text: '@hephaestus run both jobs on lab-1', user: 'alice' });
      await waitForMessage(server.url, 'restart', (m) => m.text === 'Both jobs are running.', 30_000);
      for (let i = 0; i < 100 && (runs(once) < 1 || runs(twice) < 1); i++) await sleep(50);
      assert.deepEqual([runs(once), runs(twice)], [1, 1], 'both started on the host');
      const jobs = async () => ((await (await fetch(`${server!.url}/api/jobs?thread=local:restart`, { headers: server!.auth })).json()) as { jobs: JobJson[] }).jobs;
      const [plain, safe] = [(await jobs()).find((j) => !j.idempotent)!, (await jobs()).find((j) => j.idempotent)!];
      assert.deepEqual([plain.status, safe.status], ['running', 'running']);

      a.child.kill('SIGKILL');
      await new Promise((r) => a!.child.once('exit', r));
      b = await startWorker(env, dir.path);

      const byId = async (id: string) => (await jobs()).find((j) => j.id === id)!;
      let p = await byId(plain.id);
      let s = await byId(safe.id);
      for (let i = 0; i < 400 && (p.status !== 'interrupted' || s.status !== 'succeeded'); i++) {
        await sleep(100);
        [p, s] = [await byId(plain.id), await byId(safe.id)];
      }
      assert.equal(p.status, 'interrupted', JSON.stringify(p));
      assert.match(p.error ?? '', /not run again because it is not marked idempotent/);
      assert.equal(s.status, 'succeeded', JSON.stringify(s));
      assert.equal(s.attempts, 2, 'the idempotent job ran again on the new worker');
      assert.equal(runs(twice), 2);
      await waitForMessage(server.url, 'restart', (m) => new RegExp(`⚠️ Job ${plain.id} .* — interrupted`).test(m.text));

      // BullMQ hands a job whose worker died to another worker once its lock lapses; simulate that
      // re-delivery now rather than wait for it: the job row says it is over, so nothing runs.
      const queue = new BullQueue({ redisUrl: testRedisUrl(), prefix });
      try {
        await queue.add('infra-jobs', 'run', { jobId: plain.id }, { jobId: `${plain.id}-redelivered` });
        await queue.add('infra-jobs', 'run', { jobId: safe.id }, { jobId: `${safe.id}-redelivered` });
        for (let i = 0; i < 100 && (await queue.counts('infra-jobs')).waiting + (await queue.counts('infra-jobs')).active > 0; i++) await sleep(50);
      } finally {
        await queue.close();
      }
      await sleep(1000);
      assert.equal(runs(once), 1, 'the interrupted job never ran a second time');
      assert.equal(runs(twice), 2);
      assert.equal((await byId(plain.id)).status, 'interrupted');
      const audit = ((await (await fetch(`${server.url}/api/audit?tool=infra_job`, { headers: server.auth })).json()) as { entries: { outcome: string }[] }).entries;
      assert.deepEqual(audit.map((e) => e.outcome).sort(), ['interrupted', 'succeeded']);
    } finally {
      for (const w of [a, b]) {
        if (w && w.child.exitCode === null && w.child.signalCode === null) {
          const exited = new Promise((r) => w.child.once('exit', r));
          w.child.kill('SIGTERM');
          await exited;
        }
      }
      if (server) assert.equal(await server.stop(), 0);
    }
  });
});
