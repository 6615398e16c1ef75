import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, registerSecret } from '../../core/log.js';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { MemoryQueue } from '../../core/queue/index.js';
import type { OutboundMessage } from '../../core/chat/types.js';
import { HostRegistry } from '../../tools/infra/hosts.js';
import { SshPool } from '../../tools/infra/ssh-pool.js';
import { JobStore, callKey, type InfraJob } from '../../tools/infra/jobs/store.js';
import { INFRA_JOBS_QUEUE, JobRunner, type JobSettings } from '../../tools/infra/jobs/runner.js';
import { waitForJob } from '../../tools/infra/jobs/dispatch.js';
import { runningInGroup, startSshd, type TestSshd } from '../support/sshd.js';
import { createTestDatabase, postgresSkip } from '../support/postgres.js';

const logger = createLogger({ level: 'silent' });
const settings: JobSettings = { timeoutSeconds: 60, waitSeconds: 0, concurrency: 4, retries: 1, maxLogLines: 5000, progressIntervalMs: 300, staleAfterSeconds: 2 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Keeps every message and applies edits the way the local channel does. */
class ThreadView {
  readonly sent: OutboundMessage[] = [];
  readonly texts = new Map<string, string>();
  async send(m: OutboundMessage) {
    this.sent.push(m);
    if (m.replaces) this.texts.set(m.replaces, m.text);
    else if (this.texts.has(m.idempotencyKey)) return { queued: false };
    else this.texts.set(m.idempotencyKey, m.text);
    return { queued: true };
  }
}

describe('infra jobs: a real sshd, Postgres and the in-process queue', { skip: postgresSkip }, () => {
  let sshd: TestSshd;
  let db: Database;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: JobStore;
  let ssh: SshPool;
  let queue: MemoryQueue;
  let outbox: ThreadView;
  let runner: JobRunner;
  let n = 0;

  const newJob = async (command: string, extra: Partial<Parameters<JobStore['create']>[0]> = {}): Promise<InfraJob> => {
    const { job } = await store.create({ callKey: callKey(['t', n++]), persona: 'hephaestus', thread: 'local:ops', platform: 'local', host: 'box', command, timeoutSeconds: 60, ...extra });
    return job;
  };

  before(async () => {
    sshd = await startSshd();
    database = await createTestDatabase('infra_jobs');
    db = await createDatabase({ url: database.url, dataDir: '', logger });
    await migrate(db.pool, { logger });
    const hosts = new HostRegistry({
      knownHosts: sshd.knownHosts,
      hosts: [{ name: 'box', address: sshd.address, port: sshd.port, user: sshd.user, privateKey: sshd.clientKey, policy: { allow: [], deny: [], risk: 'infra' } }],
    });
    ssh = new SshPool({ registry: hosts, logger });
    store = new JobStore(db.pool, settings.maxLogLines);
    queue = new MemoryQueue({ logger });
    outbox = new ThreadView();
    runner = new JobRunner({ store, ssh, queue, outbox, settings, logger });
    await runner.start({ singleProcess: true });
  });

  after(async () => {
    await runner?.stop();
    await queue?.close();
    await ssh?.close();
    await db?.close();
    await sshd?.stop();
    await database?.drop();
  });

  test('a job printing 1,000 lines: one message edited in batches, the full log stored in order', async () => {
    const job = await newJob('i=0; while [ $i -lt 1000 ]; do i=$((i+1)); echo "line $i"; if [ $((i % 100)) -eq 0 ]; then sleep 0.15; fi; done');
    await runner.enqueue(job);
    const done = await waitForJob(store, job.id, 20_000);
    assert.equal(done.status, 'succeeded', done.error ?? '');
    assert.equal(done.exitCode, 0);
    assert.equal(done.logLines, 1000);
    const log = await store.log(job.id);
    assert.deepEqual(
      log.map((l) => l.line),
      Array.from({ length: 1000 }, (_, i) => `line ${i + 1}`),
    );
    const mine = outbox.sent.filter((m) => m.idempotencyKey.startsWith(`infra-job:${job.id}:`));
    const posts = mine.filter((m) => !m.replaces);
    assert.equal(posts.length, 1, 'one message for the job');
    assert.ok(mine.length >= 3 && mine.length <= 20, `batched edits, not one per line (got ${mine.length} sends)`);
    const final = outbox.texts.get(`infra-job:${job.id}:progress`)!;
    assert.match(final, /✅ Job j-[0-9a-f]{8} on box/);
    assert.match(final, /succeeded \(exit 0\).*1000 lines/);
    assert.match(final, /line 1000/);
  });

  test('cancel stops `sleep 600` within 2 seconds and the remote process is gone', async () => {
    const job = await newJob('sleep 600');
    await runner.enqueue(job);
    let pid: number | null = null;
    for (let i = 0; i < 100 && !pid; i++) {
      pid = (await store.get(job.id))!.remotePid;
      if (!pid) await sleep(50);
    }
    assert.ok(pid, 'the remote pid is recorded');
    assert.ok(
      runningInGroup(pid).some((p) => p.includes('(sleep)')),
      'sleep is running on the host',
    );
    const t0 = Date.now();
    const answer = await runner.cancel(job.id, 'jeff');
    assert.match(answer.message, /Stopping job/);
    const done = await waitForJob(store, job.id, 5000);
    const took = Date.now() - t0;
    assert.equal(done.status, 'cancelled');
    assert.ok(took < 2000, `cancelled in ${took} ms`);
    assert.deepEqual(runningInGroup(pid), [], 'no process of the job is left running on the host');
    assert.equal(done.cancelledBy, 'jeff');
  });

  test('a job delivered twice by the queue runs once', async () => {
    const job = await newJob('echo ran >> run-count.txt; echo once');
    await runner.enqueue(job);
    await waitForJob(store, job.id, 10_000);
    await queue.add(INFRA_JOBS_QUEUE, 'run', { jobId: job.id }, { jobId: `${job.id}-redelivered` });
    await sleep(500);
    const after = (await store.get(job.id))!;
    assert.equal(after.attempts, 1);
    assert.equal(after.logLines, 1);
  });

  test('an orphaned job (its worker died) is interrupted, not re-run; an idempotent one is run again', async () => {
    const plain = await newJob('echo should-not-run-again');
    const safe = await newJob('echo safe-to-repeat', { idempotent: true });
    for (const j of [plain, safe]) {
      await db.pool.query(`UPDATE infra_jobs SET status = 'running', owner = 'dead-worker', attempts = 1, heartbeat_at = now() - interval '1 minute' WHERE id = $1`, [j.id]);
    }
    const p = await waitForJob(store, plain.id, 20_000);
    assert.equal(p.status, 'interrupted');
    assert.match(p.error ?? '', /not run again because it is not marked idempotent/);
    assert.equal(p.logLines, 0, 'never run by this worker');
    assert.match(outbox.texts.get(`infra-job:${plain.id}:progress`) ?? '', /interrupted/);
    const s = await waitForJob(store, safe.id, 20_000);
    assert.equal(s.status, 'succeeded');
    assert.equal(s.attempts, 2);
  });

  test('timeouts stop the remote command; secrets never reach the log', async () => {
    const slow = await newJob('sleep 30', { timeoutSeconds: 1 });
    await runner.enqueue(slow);
    const t = await waitForJob(store, slow.id, 8000);
    assert.equal(t.status, 'timed_out');
    assert.match(t.error ?? '', /timeout of 1 s/);

    registerSecret('hunter2-very-secret');
    const leaky = await newJob('echo "password is hunter2-very-secret"');
    await runner.enqueue(leaky);
    await waitForJob(store, leaky.id, 8000);
    assert.deepEqual(
      (await store.log(leaky.id)).map((l) => l.line),
      ['password is [REDACTED]'],
    );
    assert.doesNotMatch(outbox.texts.get(`infra-job:${leaky.id}:progress`) ?? '', /hunter2/);
  });
});
