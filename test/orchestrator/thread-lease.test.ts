/**
 * Thread leases (one run per thread across worker processes): taking a thread reads what waits
 * in it in the same statement, and whether its graph state must be read first ("clean"); the
 * drain's end releases it, and so does a drain that fails.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { createDatabase, migrate } from '../../core/db/index.js';
import { createLogger } from '../../core/log.js';
import { ThreadLeases } from '../../orchestrator/thread-lease.js';
import { ThreadLocks } from '../../orchestrator/thread-lock.js';
import { handleIngressJob, type TurnDeps } from '../../orchestrator/turn.js';
import { takeThread } from '../../orchestrator/turn/take-thread.js';
import { ThreadSql } from '../../orchestrator/turn/thread-sql.js';
import { createTestDatabase, postgresSkip } from '../support/postgres.js';

const logger = createLogger({ level: 'silent' });

function leaseSuite(label: string, open: () => Promise<{ pool: pg.Pool; close: () => Promise<void> }>, skip: string | false) {
  describe(`thread leases on ${label}`, { skip }, () => {
    let target: Awaited<ReturnType<typeof open>>;
    let n = 0;
    const thread = () => `local:lease-${Date.now()}-${n++}`;
    const inbound = async (conversation: string, id: string, status = 'pending') => {
      await target.pool.query(`INSERT INTO inbound_messages (id, platform, conversation, author, text, payload, status) VALUES ($1, 'local', $2, 'jeff', $3, $4, $5)`, [
        id,
        conversation,
        `text of ${id}`,
        JSON.stringify({ id, platform: 'local', threadId: conversation, author: { id: 'jeff', name: 'Jeff' }, text: `text of ${id}`, receivedAt: new Date().toISOString() }),
        status,
      ]);
    };
    const checkpoint = async (conversation: string) => {
      await target.pool.query(
        `INSERT INTO graph_checkpoints (thread_id, checkpoint_ns, checkpoint_id, type, checkpoint, metadata_type, metadata) VALUES ($1, '', 'cp-1', 'json', '\\x7b7d', 'json', '\\x7b7d')`,
        [conversation],
      );
    };
    before(async () => {
      target = await open();
      await migrate(target.pool, { logger });
    });
    after(async () => {
      await target?.close();
    });

    test('taking a thread never run: clean, with its unanswered messages in order', async () => {
      const t = thread();
      await inbound(t, `${t}:1`);
      await inbound(t, `${t}:2`, 'held');
      await inbound(t, `${t}:3`, 'done');
      const leases = new ThreadLeases(target.pool);
      const opening = await leases.tryAcquire(t);
      assert.ok(opening);
      assert.equal(opening.clean, true);
      assert.deepEqual(
        opening.pending.map((r) => [r.id, r.status]),
        [
          [`${t}:1`, 'pending'],
          [`${t}:2`, 'held'],
        ],
      );
      assert.equal(opening.pending[0]!.payload.author.name, 'Jeff', 'the payload comes back as the envelope');
      assert.equal(opening.latest, null, 'no checkpoint');
    });

    test('a thread with a checkpoint and no lease yet is not clean (its state may hold a paused run)', async () => {
      const t = thread();
      await checkpoint(t);
      const opening = await new ThreadLeases(target.pool).tryAcquire(t);
      assert.equal(opening?.clean, false);
      assert.equal(opening?.latest?.checkpoint_id, 'cp-1', 'the latest checkpoint is read in passing');
      const sql = new ThreadSql(target.pool);
      const unleased = await sql.open(t);
      assert.equal(unleased.neverRun, false);
      assert.equal(unleased.latest?.checkpoint_id, 'cp-1');
      assert.equal((await sql.open(thread())).neverRun, true);
    });

    test('another process cannot take a held thread; it can once the holder let it go, and learns how it was left', async () => {
      const t = thread();
      await checkpoint(t);
      const a = new ThreadLeases(target.pool);
      const b = new ThreadLeases(target.pool);
      const sql = new ThreadSql(target.pool);
      const ran: string[] = [];
      const takenByA = await takeThread({ sql, leases: a, cleanThreads: new Set() }, t);
      assert.ok(takenByA);
      ran.push('a');
      assert.equal(await b.tryAcquire(t), null, 'held by a');
      const takenByB = await takeThread({ sql, leases: b, cleanThreads: new Set() }, t);
      if (takenByB) ran.push('b');
      assert.equal(takenByB, null);
      await takenByA.end({ runs: [], done: [] }, true);
      assert.deepEqual(ran, ['a']);
      const opening = await b.tryAcquire(t);
      assert.equal(opening?.clean, true, 'a left it clean');
      await b.release(t, false);
      assert.equal((await a.tryAcquire(t))?.clean, false, 'b left it with a run pending');
    });

    test('a holder that dies mid-run leaves the thread not clean for the next, once its lease expires', async () => {
      const t = thread();
      const dying = new ThreadLeases(target.pool, 200);
      assert.equal((await dying.tryAcquire(t))?.clean, true, 'never run');
      // It starts a run (a checkpoint appears), then dies without releasing.
      await checkpoint(t);
      const next = new ThreadLeases(target.pool, 200);
      assert.equal(await next.tryAcquire(t), null, 'not before the lease expires');
      await new Promise((r) => setTimeout(r, 300));
      const opening = await next.tryAcquire(t);
      assert.equal(opening?.clean, false, 'the next holder must read the state and resume the run');
    });

    test('a failing drain releases the lease, not clean', async () => {
      const t = thread();
      await checkpoint(t); // not clean: the drain reads the graph's state first, and that fails
      const a = new ThreadLeases(target.pool);
      const deps = {
        pool: target.pool,
        leases: a,
        locks: new ThreadLocks(),
        cleanThreads: new Set<string>(),
        logger,
        graph: {
          getState: async () => {
            throw new Error('boom');
          },
        },
      } as unknown as TurnDeps;
      await assert.rejects(handleIngressJob(deps, { drain: t }), /boom/);
      const opening = await new ThreadLeases(target.pool).tryAcquire(t);
      assert.equal(opening?.clean, false);
    });

    test("a drain's end writes what it answered and releases the lease in one statement", async () => {
      const t = thread();
      await inbound(t, `${t}:1`);
      const a = new ThreadLeases(target.pool);
      const taken = await takeThread({ sql: new ThreadSql(target.pool), leases: a, cleanThreads: new Set() }, t);
      assert.ok(taken);
      const queries: unknown[] = [];
      const query = target.pool.query;
      target.pool.query = ((...args: unknown[]) => {
        queries.push(args[0]);
        return (query as (...a: unknown[]) => unknown).apply(target.pool, args);
      }) as never;
      try {
        await taken.end({ runs: [], done: [`${t}:1`] }, true);
      } finally {
        target.pool.query = query;
      }
      assert.equal(queries.length, 1);
      const { rows } = await target.pool.query<{ status: string }>(`SELECT status FROM inbound_messages WHERE id = $1`, [`${t}:1`]);
      assert.equal(rows[0]?.status, 'done');
      assert.equal((await new ThreadLeases(target.pool).tryAcquire(t))?.clean, true, 'released, left clean');
    });
  });
}

leaseSuite(
  'embedded PGlite',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pantheon-lease-'));
    const db = await createDatabase({ dataDir: dir, logger });
    return {
      pool: db.pool,
      close: async () => {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  false,
);

leaseSuite(
  'Postgres (prepared statements)',
  async () => {
    const t = await createTestDatabase('lease');
    const db = await createDatabase({ url: t.url, dataDir: tmpdir(), logger });
    return {
      pool: db.pool,
      close: async () => {
        await db.close();
        await t.drop();
      },
    };
  },
  postgresSkip,
);
