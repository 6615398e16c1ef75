/**
 * The ingress records every message before it is queued, normalised the same way for every
 * platform, and a message recorded but never queued (a crash, a queue that refused the job) is
 * queued by the sweep: nothing accepted is stranded.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { createLogger } from '../../core/log.js';
import { createMetrics } from '../../core/metrics.js';
import { MemoryQueue, type JobQueue } from '../../core/queue/index.js';
import { storable, storableText } from '../../core/db/storable-text.js';
import { Ingress, INGRESS_QUEUE, type IngressJob } from '../../orchestrator/ingress.js';
import type { Envelope } from '../../core/chat/types.js';

const logger = createLogger({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('storable text', () => {
  test('NUL is removed, lone surrogates become U+FFFD, pairs and plain text are untouched', () => {
    assert.equal(storableText('a\u0000b'), 'ab');
    assert.equal(storableText('x\uD800y'), 'x\uFFFDy');
    assert.equal(storableText('x\uDC00'), 'x\uFFFD');
    assert.equal(storableText('\uDC00\uD800'), '\uFFFD\uFFFD');
    assert.equal(storableText('ok 😀 \u00e9'), 'ok 😀 \u00e9');
    assert.deepEqual(storable({ a: ['\u0000', { b: '\uD83D' }], n: 1, z: null }), { a: ['', { b: '\uFFFD' }], n: 1, z: null });
  });
});

describe('the ingress', () => {
  let dir: string;
  let db: Database;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pantheon-ingress-'));
    db = await createDatabase({ dataDir: dir, logger });
    await migrate(db.pool, { logger });
  });
  after(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let n = 0;
  const envelope = (text: string, extra: Partial<Envelope> = {}): Envelope => {
    const id = `mattermost:post-${Date.now()}-${n++}`;
    return { id, platform: 'mattermost', threadId: `mattermost:town:${id}`, author: { id: 'u1', name: 'Jeff' }, text, receivedAt: new Date().toISOString(), ...extra };
  };
  const status = async (id: string) => (await db.pool.query<{ status: string }>('SELECT status FROM inbound_messages WHERE id = $1', [id])).rows[0]?.status;

  /** A queue whose `add` fails while `failing` is set (the process died, Redis went away). */
  const flakyQueue = (inner: JobQueue) => {
    const state = { failing: false };
    const queue = Object.create(inner) as JobQueue;
    queue.add = async (...args: Parameters<JobQueue['add']>) => {
      if (state.failing) throw new Error('connection to the queue lost');
      return inner.add(...args);
    };
    return { queue, state };
  };

  test('a message whose enqueue failed is recorded, and the sweep queues it: it is answered once', async () => {
    const inner = new MemoryQueue();
    const { queue, state } = flakyQueue(inner);
    const handled: string[] = [];
    await inner.process<IngressJob, void>(INGRESS_QUEUE, async (job) => {
      if (!('envelope' in job.data)) return;
      handled.push(job.data.envelope.id);
      await db.pool.query(`UPDATE inbound_messages SET status = 'done' WHERE id = $1`, [job.data.envelope.id]);
    });
    const ingress = new Ingress({ pool: db.pool, queue, metrics: createMetrics(), logger });
    try {
      state.failing = true;
      const e = envelope('@athena are you there?');
      assert.deepEqual(await ingress.accept(e), { id: e.id, accepted: true }, 'recorded: accepted even though the queue refused it');
      await sleep(50);
      assert.equal(await status(e.id), 'pending');
      assert.deepEqual(handled, []);

      state.failing = false;
      assert.equal(await ingress.recover(), 1);
      for (let i = 0; i < 100 && (await status(e.id)) !== 'done'; i++) await sleep(20);
      assert.equal(await status(e.id), 'done');
      assert.equal(await ingress.recover(), 0, 'nothing left to queue');
      assert.deepEqual(handled, [e.id]);

      // The periodic sweep does the same without being asked.
      state.failing = true;
      const later = envelope('@athena and now?');
      await ingress.accept(later);
      state.failing = false;
      ingress.startSweep(100);
      for (let i = 0; i < 100 && (await status(later.id)) !== 'done'; i++) await sleep(20);
      assert.equal(await status(later.id), 'done');
      assert.deepEqual(handled, [e.id, later.id]);
    } finally {
      ingress.stopSweep();
      await inner.close();
    }
  });

  test('a message already queued is not queued twice by the sweep', async () => {
    const queue = new MemoryQueue();
    let runs = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await queue.process<IngressJob, void>(INGRESS_QUEUE, async () => {
      runs++;
      await held;
    });
    const ingress = new Ingress({ pool: db.pool, queue, metrics: createMetrics(), logger });
    try {
      const e = envelope('@apollo a long one');
      await ingress.accept(e);
      await sleep(20);
      assert.equal(await ingress.recover(), 0);
      release();
      await sleep(20);
      assert.equal(runs, 1);
    } finally {
      await queue.close();
    }
  });

  test('NUL and lone surrogates are normalised the same for every platform; the recorded copy is what the queue carries', async () => {
    const queue = new MemoryQueue();
    const carried: Envelope[] = [];
    await queue.process<IngressJob, void>(INGRESS_QUEUE, async (job) => {
      if ('envelope' in job.data) carried.push(job.data.envelope);
    });
    const ingress = new Ingress({ pool: db.pool, queue, metrics: createMetrics(), logger });
    try {
      for (const platform of ['local', 'mattermost', 'slack', 'discord', 'telegram', 'github']) {
        const e = envelope('hi\u0000 there \uD800!', { platform, author: { id: 'u\u00001', name: 'Je\uDC00ff' } });
        const recorded: Envelope[] = [];
        assert.equal(
          (
            await ingress.accept(e, {
              recorded: async (r) => {
                recorded.push(r);
              },
            })
          ).accepted,
          true,
          platform,
        );
        const { rows } = await db.pool.query<{ text: string; author: string; payload: Envelope }>('SELECT text, author, payload FROM inbound_messages WHERE id = $1', [e.id]);
        assert.equal(rows[0]!.text, 'hi there \uFFFD!', platform);
        assert.equal(rows[0]!.author, 'u1');
        assert.equal(rows[0]!.payload.author.name, 'Je\uFFFDff');
        assert.equal(recorded[0]!.text, 'hi there \uFFFD!');
      }
      await sleep(50);
      assert.equal(carried.length, 6);
      assert.ok(carried.every((c) => c.text === 'hi there \uFFFD!'));
    } finally {
      await queue.close();
    }
  });

  test('when showing the message fails after it is recorded, it is still queued (and the caller hears of the failure)', async () => {
    const queue = new MemoryQueue();
    const carried: string[] = [];
    await queue.process<IngressJob, void>(INGRESS_QUEUE, async (job) => {
      if ('envelope' in job.data) carried.push(job.data.envelope.id);
    });
    const ingress = new Ingress({ pool: db.pool, queue, metrics: createMetrics(), logger });
    try {
      const e = envelope('@athena hello');
      await assert.rejects(
        ingress.accept(e, {
          recorded: async () => {
            throw new Error('chat store down');
          },
        }),
        /chat store down/,
      );
      await sleep(50);
      assert.deepEqual(carried, [e.id]);
    } finally {
      await queue.close();
    }
  });
});
