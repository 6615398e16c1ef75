/** What only the in-process queue promises: speed on the hot path and bounded memory. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { MemoryQueue } from '../../core/queue/index.js';

describe('MemoryQueue', () => {
  it('starts the handler well under a millisecond after add()', async () => {
    const queue = new MemoryQueue();
    const total = 2000;
    let started = 0;
    let latencySum = 0;
    let done!: () => void;
    const allDone = new Promise<void>((resolve) => (done = resolve));
    await queue.process<number, void>(
      'inbound',
      async (job) => {
        latencySum += performance.now() - job.data;
        if (++started === total) done();
      },
      { concurrency: 8 },
    );
    for (let i = 0; i < total; i++) await queue.add('inbound', 'message', performance.now());
    await allDone;
    await queue.close();
    const mean = latencySum / total;
    assert.ok(mean < 0.25, `mean add → handler start was ${mean.toFixed(3)} ms`);
  });

  it('remembers only the last `keepFinished` finished ids for dedupe', async () => {
    const queue = new MemoryQueue({ keepFinished: 3 });
    let runs = 0;
    await queue.process('q', async () => {
      runs++;
    });
    for (const id of ['a', 'b', 'c', 'd']) await queue.add('q', 'n', {}, { jobId: id });
    while (runs < 4) await new Promise((r) => setImmediate(r));
    assert.equal((await queue.counts('q')).completed, 3);
    assert.equal(await queue.getState('q', 'a'), 'unknown', 'the oldest id is forgotten');
    assert.equal((await queue.add('q', 'n', {}, { jobId: 'd' })).added, false);
    assert.equal((await queue.add('q', 'n', {}, { jobId: 'a' })).added, true);
    await queue.close();
  });

  it('refuses an empty jobId instead of silently never deduping', async () => {
    const queue = new MemoryQueue();
    await assert.rejects(queue.add('q', 'n', {}, { jobId: '' }), /jobId must be a non-empty string/);
    await queue.close();
  });
});
