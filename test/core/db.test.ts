import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { createLogger } from '../../core/log.js';
import { createDatabase, defaultMigrationsDir, migrate, type Database } from '../../core/db/index.js';
import { postgresSkip, TEST_POSTGRES_URL } from '../support/postgres.js';

const logger = createLogger({ level: 'silent' });
const LOCAL_POSTGRES = TEST_POSTGRES_URL;

/** One PGlite data directory for the whole file: creating one runs initdb (seconds), reopening is fast. */
let dataDir: string;
before(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'pantheon-db-'));
});
after(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

async function withDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await createDatabase({ dataDir, logger });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

const State = Annotation.Root({
  items: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

function compileGraph(checkpointer: PostgresSaver) {
  return new StateGraph(State)
    .addNode('echo', (s: typeof State.State) => ({ items: [`seen ${s.items.length}`] }))
    .addEdge(START, 'echo')
    .addEdge('echo', END)
    .compile({ checkpointer });
}

describe('embedded PGlite database', () => {
  test('starts, migrates once, and keeps data across a restart', async () => {
    await withDb(async (db) => {
      assert.equal(db.kind, 'pglite');
      assert.match(db.url, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
      const applied = await migrate(db.pool, { logger });
      assert.ok(
        applied.some((m) => m.version === 1 && m.name === 'core'),
        '0001_core is applied on a fresh database',
      );
      assert.deepEqual(await migrate(db.pool, { logger }), [], 'a second run applies nothing');
      await db.pool.query(`INSERT INTO chat_messages (id, conversation, role, author, text) VALUES ('m1', 'c1', 'user', 'alice', 'hello'), ('m2', 'c1', 'agent', 'apollo', 'hi')`);
      await db.pool.query(`INSERT INTO inbound_messages (id, platform, text) VALUES ('in-1', 'local', 'hello')`);
      await assert.rejects(db.pool.query(`INSERT INTO inbound_messages (id, platform, status) VALUES ('in-2', 'local', 'bogus')`), /check constraint/);
    });
    await withDb(async (db) => {
      assert.deepEqual(await migrate(db.pool, { logger }), [], 'nothing to apply after a restart');
      const { rows } = await db.pool.query('SELECT id, text FROM chat_messages WHERE conversation = $1 ORDER BY seq', ['c1']);
      assert.deepEqual(rows, [
        { id: 'm1', text: 'hello' },
        { id: 'm2', text: 'hi' },
      ]);
      const inbound = await db.pool.query(`SELECT status FROM inbound_messages WHERE id = 'in-1'`);
      assert.equal(inbound.rows[0].status, 'pending');
    });
  });

  test('has the pgvector extension', async () => {
    await withDb(async (db) => {
      await db.pool.query('CREATE EXTENSION IF NOT EXISTS vector');
      await db.pool.query('CREATE TABLE vector_probe (id int PRIMARY KEY, embedding vector(3))');
      try {
        await db.pool.query(`INSERT INTO vector_probe VALUES (1, '[1,0,0]'), (2, '[0,1,0]'), (3, '[0.9,0.1,0]')`);
        const { rows } = await db.pool.query('SELECT id, round((embedding <=> $1::vector)::numeric, 3) AS distance FROM vector_probe ORDER BY embedding <=> $1::vector LIMIT 2', ['[1,0,0]']);
        assert.deepEqual(
          rows.map((r) => r.id),
          [1, 3],
        );
        assert.equal(Number(rows[0].distance), 0);
      } finally {
        await db.pool.query('DROP TABLE vector_probe');
      }
    });
  });

  test('serves concurrent queries and transactions without mixing them up', async () => {
    await withDb(async (db) => {
      await db.pool.query('CREATE TABLE IF NOT EXISTS concurrency_probe (tx int, n int)');
      await db.pool.query('TRUNCATE concurrency_probe');
      // Different SQL text and parameters per query: an interleaved Parse/Bind would show.
      const queries = Array.from({ length: 50 }, (_, i) => db.pool.query(`SELECT $1::int AS n, $2::text AS s, ${i} AS k`, [i, `v${i}`]).then((r) => r.rows[0]));
      const transactions = Array.from({ length: 5 }, async (_, tx) => {
        const client = await db.pool.connect();
        try {
          await client.query('BEGIN');
          for (let n = 0; n < 3; n++) await client.query('INSERT INTO concurrency_probe VALUES ($1, $2)', [tx, n]);
          await client.query(tx === 4 ? 'ROLLBACK' : 'COMMIT');
        } finally {
          client.release();
        }
      });
      const [rows] = await Promise.all([Promise.all(queries), Promise.all(transactions)]);
      rows.forEach((row, i) => {
        assert.deepEqual(row, { n: i, s: `v${i}`, k: i });
      });
      const { rows: counts } = await db.pool.query('SELECT tx, count(*)::int AS c FROM concurrency_probe GROUP BY tx ORDER BY tx');
      assert.deepEqual(
        counts,
        [0, 1, 2, 3].map((tx) => ({ tx, c: 3 })),
        'committed transactions kept, the rolled-back one gone',
      );
      await db.pool.query('DROP TABLE concurrency_probe');
    });
  });

  test("runs LangGraph's Postgres checkpointer, and a thread survives a restart", async () => {
    const config = { configurable: { thread_id: 'thread-1' } };
    await withDb(async (db) => {
      const checkpointer = new PostgresSaver(db.pool);
      await checkpointer.setup();
      const graph = compileGraph(checkpointer);
      await graph.invoke({ items: ['first'] }, config);
      const second = await graph.invoke({ items: ['second'] }, config);
      assert.deepEqual(second.items, ['first', 'seen 1', 'second', 'seen 3']);
    });
    await withDb(async (db) => {
      const checkpointer = new PostgresSaver(db.pool);
      await checkpointer.setup();
      const state = await compileGraph(checkpointer).getState(config);
      assert.deepEqual(state.values.items, ['first', 'seen 1', 'second', 'seen 3']);
    });
  });

  test('refuses a data directory that a live process holds; a dead holder never blocks, whatever it recorded', async () => {
    const lockFile = join(dataDir, 'pgdata.lock');
    await withDb(async () => {
      const owner = JSON.parse(readFileSync(lockFile, 'utf8'));
      assert.equal(owner.pid, process.pid);
      await assert.rejects(createDatabase({ dataDir, logger }), /already open in this process/);
    });
    assert.equal(readFileSync(lockFile, 'utf8'), '', 'close releases the lock and clears its record');

    // Another live process holds the kernel lock on the file: refused, naming it.
    const holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `
      import { acquireDataDirLock } from ${JSON.stringify(new URL('../../core/db/data-dir-lock.ts', import.meta.url).href)};
      acquireDataDirLock(${JSON.stringify(lockFile)}, 'x');
      process.stdout.write('locked\\n');
      setTimeout(() => {}, 30000);
    `,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.on('data', (d: Buffer) => {
          if (d.toString().includes('locked')) resolve();
        });
        holder.once('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
      });
      await assert.rejects(createDatabase({ dataDir, logger }), (err: Error) => {
        assert.match(err.message, new RegExp(`in use by another Pantheon process \\(pid ${holder.pid}`));
        assert.ok(err.message.includes(lockFile), 'the message names the lock file');
        return true;
      });
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
    }

    // The record of a dead holder, even one on another host, or a live pid: only the kernel lock counts.
    const alive = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      writeFileSync(lockFile, JSON.stringify({ pid: alive.pid, hostname: 'a-container-long-gone' }));
      await withDb(async (db) => {
        const { rows } = await db.pool.query('SELECT count(*)::int AS c FROM chat_messages');
        assert.equal(rows[0].c, 2, 'the stale lock was taken over and the data is intact');
      });
    } finally {
      alive.kill();
    }
  });

  test('refuses an applied migration whose file changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pantheon-migrations-'));
    try {
      copyFileSync(join(defaultMigrationsDir(), '0001_core.sql'), join(dir, '0001_core.sql'));
      writeFileSync(join(dir, '0002_extra.sql'), 'CREATE TABLE migration_probe (id int);');
      await withDb(async (db) => {
        const applied = await migrate(db.pool, { dir, logger });
        assert.deepEqual(
          applied.map((m) => m.name),
          ['extra'],
          '0001 was already applied from the real directory',
        );
        writeFileSync(join(dir, '0002_extra.sql'), 'CREATE TABLE migration_probe (id bigint);');
        await assert.rejects(migrate(db.pool, { dir, logger }), /migration .*0002_extra\.sql was changed after it was applied/);
        writeFileSync(join(dir, '0099_broken.sql'), 'CREATE TABLE migration_probe_2 (id int); SELECT no_such_function();');
        writeFileSync(join(dir, '0002_extra.sql'), 'CREATE TABLE migration_probe (id int);');
        await assert.rejects(migrate(db.pool, { dir, logger }), /migration .*0099_broken\.sql failed/);
        const { rows } = await db.pool.query(`SELECT to_regclass('migration_probe_2') AS t`);
        assert.equal(rows[0].t, null, 'a failed migration leaves nothing behind');
        writeFileSync(join(dir, 'Bad-Name.sql'), '');
        await assert.rejects(migrate(db.pool, { dir, logger }), /Bad-Name\.sql is misnamed/);
        await db.pool.query('DROP TABLE migration_probe; DELETE FROM schema_migrations WHERE version = 2');
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a real Postgres (DATABASE_URL)', { skip: postgresSkip }, () => {
  const name = `pantheon_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  let admin: pg.Client;
  let url: string;

  before(async () => {
    admin = new pg.Client({ connectionString: LOCAL_POSTGRES });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const u = new URL(LOCAL_POSTGRES);
    u.pathname = `/${name}`;
    url = u.toString();
  });
  after(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  test('migrates a fresh database, then is up to date', async () => {
    const db = await createDatabase({ url, dataDir: '/nonexistent-not-used', logger });
    try {
      assert.equal(db.kind, 'postgres');
      const first = await migrate(db.pool, { logger });
      assert.equal(first[0]?.name, 'core');
      assert.deepEqual(await migrate(db.pool, { logger }), []);
      const { rows } = await db.pool.query('SELECT version, name, length(checksum) AS len FROM schema_migrations ORDER BY version');
      assert.deepEqual(rows[0], { version: 1, name: 'core', len: 64 });
      const tables = await db.pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`);
      for (const t of ['chat_messages', 'inbound_messages', 'outbox', 'runs', 'schema_migrations']) {
        assert.ok(
          tables.rows.some((r) => r.table_name === t),
          `table ${t} exists`,
        );
      }
    } finally {
      await db.close();
    }
  });

  test('says which server it could not reach', async () => {
    await assert.rejects(createDatabase({ url: 'postgres://postgres:hunter22@127.0.0.1:1/nope', dataDir: '/unused', logger }), (err: Error) => {
      assert.match(err.message, /cannot connect to the Postgres in DATABASE_URL \(127\.0\.0\.1:1\/nope\)/);
      assert.ok(!err.message.includes('hunter22'), 'the password is not in the message');
      return true;
    });
  });
});
