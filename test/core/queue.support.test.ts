/** The small pieces around the two queues: the factory, BullMQ id escaping, the depth gauge. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics } from '../../core/metrics.js';
import { createQueue, watchQueueDepth } from '../../core/queue/index.js';
import { fromBullJobId, toBullJobId } from '../../core/queue/bull-job-id.js';
import { deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis.js';

describe('createQueue', () => {
  it('answers the in-process queue without a Redis URL', async () => {
    const queue = createQueue({});
    assert.equal(queue.kind, 'memory');
    await queue.close();
  });

  it('answers BullMQ with a Redis URL', async () => {
    const prefix = uniquePrefix();
    const queue = createQueue({ redisUrl: testRedisUrl(), prefix });
    assert.equal(queue.kind, 'bullmq');
    assert.equal((await queue.add('q', 'n', {})).added, true);
    await queue.close();
    assert.ok((await deleteKeys(testRedisUrl(), prefix)) > 0, 'the job was stored under the given prefix');
  });
});

describe('BullMQ job ids', () => {
  it('escapes what BullMQ refuses and restores it exactly', () => {
    for (const id of ['slack:C1:1700.1', '12345', '-7', '100%:done', 'a%3Ab', 'plain-id', '007']) {
      const bull = toBullJobId(id);
      assert.ok(!bull.includes(':'), `${bull} contains ':'`);
      assert.notEqual(`${parseInt(bull, 10)}`, bull, `${bull} reads as an integer`);
      assert.equal(fromBullJobId(bull), id);
    }
    assert.equal(toBullJobId('plain-id'), 'plain-id', 'ordinary ids are stored as given');
  });
});

describe('watchQueueDepth', () => {
  it('samples counts per queue and state into the gauge', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const queue = createQueue({});
    await queue.add('inbound', 'm', {});
    await queue.add('inbound', 'm', {}, { delay: 60_000 });
    const stop = watchQueueDepth(queue, ['inbound', 'outbox'], metrics.queueDepth, 10);
    await new Promise((r) => setTimeout(r, 30));
    stop();
    const text = await metrics.registry.metrics();
    assert.match(text, /pantheon_queue_depth\{queue="inbound",state="waiting"\} 1/);
    assert.match(text, /pantheon_queue_depth\{queue="inbound",state="delayed"\} 1/);
    assert.match(text, /pantheon_queue_depth\{queue="outbox",state="waiting"\} 0/);
    await queue.close();
  });
});
