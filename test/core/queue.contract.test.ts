/**
 * The JobQueue contract: one set of cases, run against the in-process MemoryQueue and
 * against BullQueue on a real Redis (REDIS_URL, set by test/run.mjs). Whatever one
 * implementation promises here, the other must keep too.
 */
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BullQueue, MemoryQueue, type JobQueue, type QueueEvent } from '../../core/queue/index.js';
import { deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis.js';

interface Subject {
  name: string;
  make(): JobQueue;
  cleanup(): Promise<void>;
}

const bullPrefix = uniquePrefix();
const subjects: Subject[] = [
  { name: 'MemoryQueue', make: () => new MemoryQueue(), cleanup: async () => {} },
  {
    name: 'BullQueue',
    make: () => new BullQueue({ redisUrl: testRedisUrl(), prefix: bullPrefix }),
    cleanup: async () => {
      await deleteKeys(testRedisUrl(), bullPrefix);
    },
  },
];

/** Polls until `check` holds; fails naming what it waited for. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

function recordEvents(queue: JobQueue, name: string): QueueEvent[] {
  const events: QueueEvent[] = [];
  queue.on(name, (e) => events.push(e));
  return events;
}

const finished = (events: QueueEvent[], jobId: string) => () => events.some((e) => e.jobId === jobId && (e.type === 'completed' || (e.type === 'failed' && !e.willRetry)));

for (const subject of subjects) {
  describe(`JobQueue contract: ${subject.name}`, () => {
    let queue: JobQueue;
    /** A fresh queue name per test, so counts and events never leak between cases. */
    let name: string;

    beforeEach(() => {
      queue = subject.make();
      name = `q-${randomUUID().slice(0, 8)}`;
    });
    afterEach(async () => {
      await queue.close();
    });
    after(async () => {
      await subject.cleanup();
    });

    it('runs a job and reports active, then completed with the handler result', async () => {
      const events = recordEvents(queue, name);
      await queue.process<{ text: string }, { echoed: string }>(name, async (job) => {
        assert.equal(job.name, 'echo');
        assert.equal(job.queue, name);
        assert.equal(job.attemptsMade, 0);
        return { echoed: job.data.text };
      });
      const { id, added } = await queue.add(name, 'echo', { text: 'hello' });
      assert.equal(added, true);
      assert.ok(id.length > 0, 'a job without jobId still gets an id');
      await until('completion', finished(events, id));
      assert.deepEqual(
        events.map((e) => e.type),
        ['active', 'completed'],
      );
      assert.deepEqual(events[1], { type: 'completed', queue: name, jobId: id, result: { echoed: 'hello' } });
      assert.equal(await queue.getState(name, id), 'completed');
    });

    it('keeps named queues apart: jobs, workers, events and counts', async () => {
      const other = `${name}-other`;
      const seen: string[] = [];
      const otherEvents = recordEvents(queue, other);
      const events = recordEvents(queue, name);
      await queue.process<string, void>(name, async (job) => {
        seen.push(job.data);
      });
      const mine = await queue.add(name, 'n', 'mine');
      await queue.add(other, 'n', 'theirs');
      await until('the job on the worked queue', finished(events, mine.id));
      await sleep(50);
      assert.deepEqual(seen, ['mine']);
      assert.deepEqual(otherEvents, [], 'no events cross queues');
      assert.equal((await queue.counts(other)).waiting, 1);
      assert.equal((await queue.counts(name)).waiting, 0);
    });

    it('runs up to `concurrency` handlers at once, never more', async () => {
      let inFlight = 0;
      let peak = 0;
      let done = 0;
      await queue.process(
        name,
        async () => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          await sleep(60);
          inFlight--;
          done++;
        },
        { concurrency: 3 },
      );
      for (let i = 0; i < 7; i++) await queue.add(name, 'work', { i });
      await until('all 7 jobs', () => done === 7);
      assert.equal(peak, 3);
    });

    it('retries a failing job with fixed backoff: fails twice, succeeds on the third run', async () => {
      const events = recordEvents(queue, name);
      const starts: number[] = [];
      const attemptsSeen: number[] = [];
      await queue.process(name, async (job) => {
        starts.push(Date.now());
        attemptsSeen.push(job.attemptsMade);
        if (starts.length < 3) throw new Error(`flaky ${starts.length}`);
        return 'ok';
      });
      const { id } = await queue.add(name, 'flaky', {}, { attempts: 3, backoff: { type: 'fixed', delay: 40 } });
      await until('completion', finished(events, id));
      assert.equal(starts.length, 3);
      assert.deepEqual(attemptsSeen, [0, 1, 2]);
      assert.ok(starts[1]! - starts[0]! >= 40, `first gap ${starts[1]! - starts[0]!} ms < 40 ms backoff`);
      assert.ok(starts[2]! - starts[1]! >= 40, `second gap ${starts[2]! - starts[1]!} ms < 40 ms backoff`);
      const failures = events.filter((e) => e.type === 'failed');
      assert.deepEqual(failures, [
        { type: 'failed', queue: name, jobId: id, error: 'flaky 1', willRetry: true },
        { type: 'failed', queue: name, jobId: id, error: 'flaky 2', willRetry: true },
      ]);
      assert.equal(await queue.getState(name, id), 'completed');
    });

    it('spaces exponential backoff as delay, then twice the delay', async () => {
      const events = recordEvents(queue, name);
      const starts: number[] = [];
      await queue.process(name, async () => {
        starts.push(Date.now());
        if (starts.length < 3) throw new Error('again');
      });
      const { id } = await queue.add(name, 'exp', {}, { attempts: 3, backoff: { type: 'exponential', delay: 30 } });
      await until('completion', finished(events, id));
      assert.ok(starts[1]! - starts[0]! >= 30, `first gap ${starts[1]! - starts[0]!} ms < 30 ms`);
      assert.ok(starts[2]! - starts[1]! >= 60, `second gap ${starts[2]! - starts[1]!} ms < 60 ms`);
    });

    it('fails a job for good once its attempts are exhausted', async () => {
      const events = recordEvents(queue, name);
      let runs = 0;
      await queue.process(name, async () => {
        runs++;
        throw new Error('model unreachable');
      });
      const { id } = await queue.add(name, 'doomed', {}, { attempts: 2 });
      await until('final failure', finished(events, id));
      assert.equal(runs, 2);
      const failures = events.filter((e) => e.type === 'failed');
      assert.deepEqual(
        failures.map((e) => e.type === 'failed' && e.willRetry),
        [true, false],
      );
      assert.deepEqual(failures[1], { type: 'failed', queue: name, jobId: id, error: 'model unreachable', willRetry: false });
      assert.equal(await queue.getState(name, id), 'failed');
      assert.equal((await queue.counts(name)).failed, 1);
    });

    it('dedupes by jobId while waiting, after completion and after failure', async () => {
      const events = recordEvents(queue, name);
      const runs: string[] = [];
      const jobId = 'slack:C042:1700000000.000100'; // colons: a real platform-shaped id
      assert.deepEqual(await queue.add(name, 'msg', 'first', { jobId }), { id: jobId, added: true });
      assert.deepEqual(await queue.add(name, 'msg', 'again', { jobId }), { id: jobId, added: false });
      await queue.process<string, void>(name, async (job) => {
        runs.push(`${job.id}=${job.data}`);
        if (job.data === 'bad') throw new Error('bad');
      });
      await until('completion', finished(events, jobId));
      assert.deepEqual(await queue.add(name, 'msg', 'late', { jobId }), { id: jobId, added: false });

      const numeric = '12345'; // an id that reads as a number (Telegram update ids do)
      await queue.add(name, 'msg', 'bad', { jobId: numeric });
      await until('failure', finished(events, numeric));
      assert.deepEqual(await queue.add(name, 'msg', 'retry?', { jobId: numeric }), { id: numeric, added: false });
      await sleep(50);
      assert.deepEqual(runs, [`${jobId}=first`, `${numeric}=bad`]);
      assert.equal(await queue.getState(name, numeric), 'failed');
    });

    it('holds a delayed job back until its delay has passed', async () => {
      let startedAt = 0;
      await queue.process(name, async () => {
        startedAt = Date.now();
      });
      const addedAt = Date.now();
      const { id } = await queue.add(name, 'later', {}, { delay: 120 });
      assert.equal(await queue.getState(name, id), 'delayed');
      assert.equal((await queue.counts(name)).delayed, 1);
      await until('the delayed job to run', () => startedAt > 0);
      assert.ok(startedAt - addedAt >= 120, `ran after ${startedAt - addedAt} ms, before the 120 ms delay`);
      await until('completed state', async () => (await queue.getState(name, id)) === 'completed');
    });

    it('delivers progress events to listeners, in order, before completion', async () => {
      const events = recordEvents(queue, name);
      await queue.process(name, async (job) => {
        await job.progress(25);
        await job.progress({ step: 'drafting', percent: 80 });
        return 'done';
      });
      const { id } = await queue.add(name, 'long', {});
      await until('completion', finished(events, id));
      assert.deepEqual(
        events.map((e) => (e.type === 'progress' ? e.progress : e.type)),
        ['active', 25, { step: 'drafting', percent: 80 }, 'completed'],
      );
    });

    it('stops calling a listener once it unsubscribes', async () => {
      const kept = recordEvents(queue, name);
      const dropped: QueueEvent[] = [];
      const unsubscribe = queue.on(name, (e) => dropped.push(e));
      unsubscribe();
      await queue.process(name, async () => 'x');
      const { id } = await queue.add(name, 'x', {});
      await until('completion', finished(kept, id));
      assert.deepEqual(dropped, []);
    });

    it('counts waiting, active, delayed, completed and failed jobs', async () => {
      assert.deepEqual(await queue.counts(name), { waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 });
      const events = recordEvents(queue, name);
      await queue.add(name, 'a', 'ok');
      await queue.add(name, 'b', 'fail');
      await queue.add(name, 'c', 'hold');
      await queue.add(name, 'd', 'ok', { delay: 60_000 });
      assert.deepEqual(await queue.counts(name), { waiting: 3, active: 0, delayed: 1, completed: 0, failed: 0 });

      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      await queue.process<string, void>(name, async (job) => {
        if (job.data === 'fail') throw new Error('no');
        if (job.data === 'hold') await held;
      });
      await until('two jobs finished and one held', async () => {
        const c = await queue.counts(name);
        return c.completed === 1 && c.failed === 1 && c.active === 1;
      });
      assert.deepEqual(await queue.counts(name), { waiting: 0, active: 1, delayed: 1, completed: 1, failed: 1 });
      release();
      await until('the held job', () => events.filter((e) => e.type === 'completed').length === 2);
      assert.deepEqual(await queue.counts(name), { waiting: 0, active: 0, delayed: 1, completed: 2, failed: 1 });
    });

    it('answers unknown for a job it never saw', async () => {
      assert.equal(await queue.getState(name, 'never-added'), 'unknown');
    });

    it('lets active jobs finish when closing', async () => {
      let finishedAt = 0;
      let started = false;
      await queue.process(name, async () => {
        started = true;
        await sleep(80);
        finishedAt = Date.now();
      });
      await queue.add(name, 'slow', {});
      await until('the job to start', () => started);
      await queue.close();
      assert.ok(finishedAt > 0, 'close() resolved before the active job finished');
      await assert.rejects(queue.add(name, 'late', {}), /closed/);
    });
  });
}
