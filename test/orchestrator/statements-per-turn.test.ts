/**
 * What a plain answer costs the database, counted on the app's own pool from a message's arrival
 * to the end of its drain (docs/architecture.md: "six statements"): the inbound insert, opening
 * the thread, the memory recall, the checkpoint saves (shared with other conversations' steps),
 * the post, the drain's end. Embedded (one process, no leases) and on Postgres with BullMQ (the
 * thread taken by a lease, released with the drain's end).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
import { startPantheon, type Pantheon } from '../../cli/app.js';
import { createLogger } from '../../core/log.js';
import { createTestDatabase, postgresSkip } from '../support/postgres.js';
import { deleteKeys, uniquePrefix } from '../support/redis.js';

/** Answers at once without calling tools: a turn is routing, one model step and the post. */
class InstantModel extends BaseChatModel {
  override bindTools(): this {
    return this;
  }
  _llmType(): string {
    return 'instant';
  }
  async _generate(): Promise<ChatResult> {
    return { generations: [{ text: 'ok', message: new AIMessage({ id: `instant-${randomUUID()}`, content: 'ok' }) }] };
  }
}

/** What a statement does, by its text; anything else is shown as its first words. */
function kindOf(text: string): string {
  const sql = text.replace(/\s+/g, ' ').trim();
  if (/^INSERT INTO inbound_messages/i.test(sql)) return 'inbound insert';
  if (/thread_leases/.test(sql) && /json_agg/.test(sql) && /graph_checkpoints/.test(sql)) return 'thread open';
  if (/json_agg/.test(sql) && /inbound_messages/.test(sql) && /graph_checkpoints/.test(sql)) return 'thread open';
  if (/^WITH nearest AS/.test(sql)) return 'memory recall';
  if (/^WITH saved_checkpoints/.test(sql)) return 'checkpoint save';
  if (/INSERT INTO chat_messages|INSERT INTO outbox/i.test(sql)) return 'post';
  if (/UPDATE inbound_messages i SET status/.test(sql) && /INSERT INTO runs/.test(sql)) return 'drain end';
  if (/^SET hnsw/i.test(sql)) return SETUP;
  if (/FROM memories GROUP BY|AS total, \(count\(\*\) FILTER/.test(sql)) return SETUP;
  // The replica's presence and connection leases are renewed on a timer (every third of their
  // TTL), whatever the turns do: a busy stretch may straddle a renewal.
  if (/\b(INTO|UPDATE|FROM) leases\b/i.test(sql)) return SETUP;
  return sql.slice(0, 80);
}
/**
 * Not the turn's: the recall's settings, once per connection, the repository scopes memory
 * counts at most every 30 s (memory/tools/visibility.ts), and the leases' renewals.
 */
const SETUP = 'setup';

const tally = (kinds: string[]) => {
  const by: Record<string, number> = {};
  for (const k of kinds) by[k] = (by[k] ?? 0) + 1;
  return by;
};

/**
 * Records the statements sent through the pool while recording is on: every statement goes
 * through a client the pool lends (`pool.query` borrows one too), so its clients are wrapped.
 */
function statementRecorder(pool: pg.Pool): { start: () => string[]; stop: () => void } {
  let texts: string[] | null = null;
  const wrapped = new WeakSet<object>();
  const wrap = (client: pg.PoolClient) => {
    if (wrapped.has(client)) return client;
    wrapped.add(client);
    const query = client.query;
    client.query = function (this: pg.PoolClient, config: unknown, ...rest: unknown[]) {
      texts?.push(typeof config === 'string' ? config : (config as pg.QueryConfig).text);
      return (query as (...a: unknown[]) => unknown).call(this, config, ...rest);
    } as never;
    return client;
  };
  const connect = pool.connect;
  pool.connect = function (this: pg.Pool, cb?: (err: Error | undefined, client?: pg.PoolClient, done?: () => void) => void) {
    if (cb) return (connect as (cb: unknown) => void).call(this, (err: Error | undefined, client?: pg.PoolClient, done?: () => void) => cb(err, client && wrap(client), done));
    return (connect as () => Promise<pg.PoolClient>).call(this).then(wrap);
  } as never;
  return {
    start: () => (texts = []),
    stop: () => {
      texts = null;
    },
  };
}

function statementsSuite(label: string, open: () => Promise<{ env: NodeJS.ProcessEnv; close: () => Promise<void> }>, skip: string | false) {
  describe(`statements per turn, ${label}`, { skip }, () => {
    let app: Pantheon;
    let dataDir: string;
    let close: () => Promise<void>;
    const run = randomUUID().slice(0, 8);
    let n = 0;

    let recorder: ReturnType<typeof statementRecorder>;

    /** One message to apollo in a new thread: the statements from its arrival to its drain's end (and a moment after). */
    async function turn(): Promise<string[]> {
      const texts = recorder.start();
      try {
        const id = `stmt:${run}:${n++}`;
        await app.ingress.accept({ id, platform: 'local', threadId: `local:stmt-${run}-${n}`, author: { id: 'bench', name: 'bench' }, text: '@apollo ping', receivedAt: new Date().toISOString() });
        const deadline = Date.now() + 30_000;
        while (!texts.some((t) => kindOf(t) === 'drain end')) {
          if (Date.now() > deadline) throw new Error(`turn ${id} did not end: ${JSON.stringify(texts.map(kindOf))}`);
          await new Promise((r) => setTimeout(r, 10));
        }
        await new Promise((r) => setTimeout(r, 300)); // nothing of the turn comes after its end
        return texts.map(kindOf);
      } finally {
        recorder.stop();
      }
    }

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'pantheon-statements-'));
      const target = await open();
      close = target.close;
      app = await startPantheon({ cwd: dataDir, dataDir, port: 0, host: '127.0.0.1', env: target.env, logger: createLogger({ level: 'silent' }), modules: [], modelFor: () => new InstantModel({}) });
      recorder = statementRecorder(app.db.pool);
    });
    after(async () => {
      await app?.stop();
      await close?.();
      await rm(dataDir, { recursive: true, force: true });
    });

    test("a plain answer: the inbound insert, one opening, the graph's recall, saves and post, one drain end", async () => {
      await turn(); // warm: connections, the recall's per-connection setup
      for (let i = 0; i < 3; i++) {
        const kinds = (await turn()).filter((k) => k !== SETUP);
        assert.equal(kinds[0], 'inbound insert', JSON.stringify(kinds));
        assert.equal(kinds[1], 'thread open', 'the thread is opened in one statement that also reads what waits and its latest checkpoint');
        assert.equal(kinds.at(-1), 'drain end', "the drain ends in one statement (with the lease's release when there is one)");
        const { 'checkpoint save': saves = 0, ...rest } = tally(kinds);
        assert.deepEqual(rest, { 'inbound insert': 1, 'thread open': 1, 'memory recall': 1, post: 1, 'drain end': 1 }, JSON.stringify(kinds));
        // The turn's two graph steps (its input, the persona's answer), each a checkpoint and writes
        // saved together unless they straddle a turn of the event loop.
        assert.ok(saves >= 1 && saves <= 4, `checkpoint saves: ${saves}`);
      }
    });

    test('conversations in flight together: six statements each, their checkpoint saves shared', async (t) => {
      const count = 40;
      const texts = recorder.start();
      try {
        await Promise.all(
          Array.from({ length: count }, async (_, i) => {
            const k = n++;
            await new Promise((r) => setTimeout(r, (i % 20) * 5));
            await app.ingress.accept({
              id: `stmt:${run}:${k}`,
              platform: 'local',
              threadId: `local:stmt-${run}-${k}`,
              author: { id: 'bench', name: 'bench' },
              text: '@apollo ping',
              receivedAt: new Date().toISOString(),
            });
          }),
        );
        const deadline = Date.now() + 120_000;
        while (texts.filter((x) => kindOf(x) === 'drain end').length < count) {
          if (Date.now() > deadline) throw new Error(`not every drain ended: ${JSON.stringify(tally(texts.map(kindOf)))}`);
          await new Promise((r) => setTimeout(r, 10));
        }
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        recorder.stop();
      }
      const kinds = texts.map(kindOf).filter((k) => k !== SETUP);
      const { 'checkpoint save': saves = 0, ...rest } = tally(kinds);
      const per = kinds.length / count;
      t.diagnostic(`${per} statements per conversation (${saves / count} of them checkpoint saves): ${JSON.stringify(tally(kinds))}`);
      assert.deepEqual(rest, { 'inbound insert': count, 'thread open': count, 'memory recall': count, post: count, 'drain end': count });
      // Each step's saves go out together; on one embedded connection the conversations' steps
      // rarely coincide, on Postgres they share statements.
      assert.ok(per <= (label.startsWith('embedded') ? 7.25 : 6), `${per} statements per conversation`);
    });
  });
}

statementsSuite('embedded (PGlite, in-process queue)', async () => ({ env: { PATH: process.env.PATH, HOME: process.env.HOME }, close: async () => {} }), false);

statementsSuite(
  'Postgres + Redis (BullMQ, thread leases)',
  async () => {
    const db = await createTestDatabase('statements');
    const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const prefix = uniquePrefix('statements');
    return {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.url, REDIS_URL: redisUrl, PANTHEON_QUEUE_PREFIX: prefix },
      close: async () => {
        await db.drop();
        await deleteKeys(redisUrl, prefix);
      },
    };
  },
  postgresSkip,
);
