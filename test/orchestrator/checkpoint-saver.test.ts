import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { ERROR, emptyCheckpoint, type Checkpoint } from '@langchain/langgraph-checkpoint';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { allowNamedStatements } from '../../core/db/statements.js';
import { createLogger } from '../../core/log.js';
import { latestCheckpointSql, PgCheckpointSaver } from '../../orchestrator/checkpoint/pg-saver.js';
import { createTestDatabase, postgresSkip } from '../support/postgres.js';

const logger = createLogger({ level: 'silent' });

/** A pool that counts the statements sent through it (and is prepared-statement capable like the one it wraps). */
function counting(pool: pg.Pool, named: boolean): { pool: pg.Pool; statements: string[] } {
  const statements: string[] = [];
  const wrapper = Object.create(pool) as pg.Pool;
  wrapper.query = ((config: string | pg.QueryConfig, values?: unknown[]) => {
    statements.push(typeof config === 'string' ? config : config.text);
    return pool.query(config as never, values as never);
  }) as never;
  if (named) allowNamedStatements(wrapper);
  return { pool: wrapper, statements };
}

const checkpointWith = (value: string): Checkpoint => ({ ...emptyCheckpoint(), channel_values: { note: value } });
const config = (thread: string, checkpointId?: string) => ({ configurable: { thread_id: thread, checkpoint_ns: '', ...(checkpointId ? { checkpoint_id: checkpointId } : {}) } });

function saverSuite(label: string, open: () => Promise<{ pool: pg.Pool; named: boolean; close: () => Promise<void> }>, skip: string | false) {
  describe(`PgCheckpointSaver on ${label}`, { skip }, () => {
    let target: Awaited<ReturnType<typeof open>>;
    before(async () => {
      target = await open();
      await migrate(target.pool, { logger });
    });
    after(async () => {
      await target?.close();
    });

    test('a primed thread is read without a statement until it is saved again', async () => {
      const { pool, statements } = counting(target.pool, target.named);
      const saver = new PgCheckpointSaver(pool);
      const thread = `primed-${Date.now()}`;
      saver.prime(thread, null);
      assert.equal(await saver.getTuple(config(thread)), undefined, 'primed as never run');
      assert.equal(statements.length, 0);
      const cp = checkpointWith('first');
      await saver.put(config(thread), cp, { source: 'loop', step: 0, parents: {} });
      assert.equal(statements.length, 1);
      assert.equal((await saver.getTuple(config(thread)))?.checkpoint.id, cp.id, 'a save ends the priming: read from the database');
      assert.equal(statements.length, 2);
      const { rows } = await target.pool.query(`SELECT cp.* FROM (SELECT 1) one LEFT JOIN LATERAL (${latestCheckpointSql('$1')}) cp ON true`, [thread]);
      saver.prime(thread, rows[0]);
      const primed = await saver.getTuple(config(thread));
      assert.deepEqual(primed?.checkpoint.channel_values, { note: 'first' });
      assert.equal(statements.length, 2, 'served from the primed row');
      saver.forget(thread);
      await saver.getTuple(config(thread));
      assert.equal(statements.length, 3);
    });

    test('saves issued together go out as one statement, and each reads back', async () => {
      const { pool, statements } = counting(target.pool, target.named);
      const saver = new PgCheckpointSaver(pool);
      const run = `t-${Date.now()}`;
      const cps = [0, 1, 2].map((i) => checkpointWith(`thread ${i}`));
      // Three conversations' checkpoints and one task's writes, in the same turn of the event loop.
      const saved = await Promise.all([
        ...cps.map((cp, i) => saver.put(config(`${run}-${i}`), cp, { source: 'loop', step: 0, parents: {} })),
        saver.putWrites(
          config(`${run}-0`, cps[0]!.id),
          [
            ['messages', 'hello'],
            ['queue', ['apollo']],
          ],
          'task-1',
        ),
      ]);
      assert.equal(saved.length, 4);
      assert.equal(statements.length, 1, `one statement for the batch, not ${statements.length}`);
      for (const [i, cp] of cps.entries()) {
        const tuple = await saver.getTuple(config(`${run}-${i}`));
        assert.equal(tuple?.checkpoint.id, cp.id);
        assert.deepEqual(tuple?.checkpoint.channel_values, { note: `thread ${i}` });
      }
      const first = await saver.getTuple(config(`${run}-0`, cps[0]!.id));
      assert.deepEqual(
        first?.pendingWrites?.map(([task, channel, value]) => [task, channel, value]),
        [
          ['task-1', 'messages', 'hello'],
          ['task-1', 'queue', ['apollo']],
        ],
      );
    });

    test('a save that fails fails alone: the others in its batch are stored', async () => {
      const saver = new PgCheckpointSaver(target.pool);
      const run = `f-${Date.now()}`;
      const good = [checkpointWith('a'), checkpointWith('b')];
      const results = await Promise.allSettled([
        saver.put(config(`${run}-a`), good[0]!, { source: 'loop', step: 0, parents: {} }),
        saver.put(config(`${run}-bad\u0000`), checkpointWith('bad'), { source: 'loop', step: 0, parents: {} }), // Postgres text cannot hold NUL
        saver.put(config(`${run}-b`), good[1]!, { source: 'loop', step: 0, parents: {} }),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.equal((await saver.getTuple(config(`${run}-a`)))?.checkpoint.id, good[0]!.id);
      assert.equal((await saver.getTuple(config(`${run}-b`)))?.checkpoint.id, good[1]!.id);
    });

    test('within a batch, as in sequence: a task write is kept once, an error write is replaced by the latest', async () => {
      const saver = new PgCheckpointSaver(target.pool);
      const thread = `w-${Date.now()}`;
      const cp = checkpointWith('w');
      await saver.put(config(thread), cp, { source: 'loop', step: 0, parents: {} });
      await Promise.all([
        saver.putWrites(config(thread, cp.id), [['messages', 'first']], 'task-1'),
        saver.putWrites(config(thread, cp.id), [['messages', 'again']], 'task-1'),
        saver.putWrites(config(thread, cp.id), [[ERROR, { message: 'one' }]], 'task-2'),
        saver.putWrites(config(thread, cp.id), [[ERROR, { message: 'two' }]], 'task-2'),
      ]);
      const writes = (await saver.getTuple(config(thread, cp.id)))?.pendingWrites ?? [];
      assert.deepEqual(
        writes.map(([task, channel, value]) => [task, channel, value]),
        [
          ['task-1', 'messages', 'first'],
          ['task-2', ERROR, { message: 'two' }],
        ],
      );
    });
  });
}

saverSuite(
  'embedded PGlite',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pantheon-saver-'));
    const db: Database = await createDatabase({ dataDir: dir, logger });
    return {
      pool: db.pool,
      named: false,
      close: async () => {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  false,
);

saverSuite(
  'Postgres (prepared statements)',
  async () => {
    const t = await createTestDatabase('saver');
    const db = await createDatabase({ url: t.url, dataDir: tmpdir(), logger });
    return {
      pool: db.pool,
      named: true,
      close: async () => {
        await db.close();
        await t.drop();
      },
    };
  },
  postgresSkip,
);
