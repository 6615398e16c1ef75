import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createLogger } from '../../core/log.js';
import { migrate } from '../../core/db/migrate.js';
import { fenced, fenceParams, type Fence } from '../../core/leases/index.js';
import { PgLeases } from '../../core/leases/pg-leases.js';
import { SoleOwner } from '../../core/leases/sole-owner.js';
import { createTestDatabase, postgresSkip } from '../support/postgres.js';

const logger = createLogger({ level: 'silent' });
/** A pool whose idle clients may be ended by the test (an ended pool, a dropped database) without an uncaught error. */
const poolFor = (url: string) => new pg.Pool({ connectionString: url }).on('error', () => {});
const until = async (what: string, ok: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** A connection that records who runs it. */
function connection(log: string[], who: string) {
  let fence: Fence | undefined;
  return {
    fence: () => fence,
    holding: {
      start: async (f: Fence) => {
        fence = f;
        log.push(`${who} start ${f.token}`);
      },
      stop: async () => {
        fence = undefined;
        log.push(`${who} stop`);
      },
    },
  };
}

describe('leases on Postgres', { skip: postgresSkip }, () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  before(async () => {
    db = await createTestDatabase('leases');
    const pool = poolFor(db.url);
    await migrate(pool, { logger });
    await pool.end();
  });
  after(async () => db?.drop());

  it('one owner at a time; giving up hands over at once with a new token; a stale token fences writes', async () => {
    const poolA = poolFor(db.url);
    const poolB = poolFor(db.url);
    const log: string[] = [];
    // b tries every 5 s, but hears a's release at once.
    const a = new PgLeases({ pool: poolA, logger, ttlMs: 20_000, renewMs: 5000, listenUrl: db.url });
    const b = new PgLeases({ pool: poolB, logger, ttlMs: 20_000, renewMs: 5000, listenUrl: db.url });
    const ca = connection(log, 'a');
    const cb = connection(log, 'b');
    try {
      a.hold('x', ca.holding);
      await until('a owns x', () => !!ca.fence());
      b.hold('x', cb.holding);
      await new Promise((r) => setTimeout(r, 600));
      assert.deepEqual(log, ['a start 1']);
      assert.deepEqual(b.owned(), []);
      assert.deepEqual(a.owned(), [{ name: 'x', up: true }]);

      await poolA.query('CREATE TABLE fenced_writes (v int)');
      const write = (fence: Fence, v: number) => poolA.query(`INSERT INTO fenced_writes SELECT $1 WHERE ${fenced(2)}`, [v, ...fenceParams(fence)]);
      const stale = ca.fence()!;
      assert.equal((await write(stale, 1)).rowCount, 1);

      const started = Date.now();
      await a.close();
      await until('b owns x', () => !!cb.fence());
      assert.ok(Date.now() - started < 1000, `handed over in ${Date.now() - started} ms`);
      assert.deepEqual(log, ['a start 1', 'a stop', 'b start 2']);
      assert.equal((await write(stale, 2)).rowCount, 0, 'the old owner cannot write');
      assert.equal((await write(cb.fence()!, 3)).rowCount, 1);
    } finally {
      await a.close();
      await b.close();
      await poolA.end();
      await poolB.end();
    }
  });

  it('an owner that cannot renew stops before its lease expires; another takes over after the TTL', async () => {
    const poolA = poolFor(db.url);
    const poolB = poolFor(db.url);
    const log: string[] = [];
    const times: Record<string, number> = {};
    const a = new PgLeases({ pool: poolA, logger, ttlMs: 1500, renewMs: 200 });
    const b = new PgLeases({ pool: poolB, logger, ttlMs: 1500, renewMs: 200 });
    const ca = connection(log, 'a');
    const cb = connection(log, 'b');
    const stamp = (h: typeof ca.holding, key: string) => ({
      start: async (f: Fence) => {
        await h.start(f);
        times[`${key} start`] = Date.now();
      },
      stop: async () => {
        await h.stop();
        times[`${key} stop`] = Date.now();
      },
    });
    try {
      a.hold('y', stamp(ca.holding, 'a'));
      await until('a owns y', () => !!ca.fence());
      b.hold('y', stamp(cb.holding, 'b'));
      // a loses its database: its renewals fail from now on.
      await poolA.end();
      await until('b owns y', () => !!cb.fence(), 5000);
      assert.deepEqual(log, ['a start 1', 'a stop', 'b start 2']);
      assert.ok(times['a stop']! <= times['b start']!, 'never two owners at once');
      assert.equal(a.healthy(), false);
    } finally {
      await b.close();
      await poolB.end();
      await a.close().catch(() => {});
    }
  });
});

describe('leases on Postgres: spread over the replicas', { skip: postgresSkip }, () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  before(async () => {
    db = await createTestDatabase('leases_spread');
    const pool = poolFor(db.url);
    await migrate(pool, { logger });
    await pool.end();
  });
  after(async () => db?.drop());

  it('a replica that joins gets its share; when one dies, the others take its connections after the TTL', async () => {
    const names = ['bot:1', 'bot:2', 'bot:3', 'bot:4', 'bot:5'];
    const pools = [poolFor(db.url), poolFor(db.url), poolFor(db.url)];
    const [a, b, c] = pools.map((pool) => new PgLeases({ pool, logger, ttlMs: 1200, renewMs: 200, listenUrl: db.url }));
    const log: string[] = [];
    const owned = (l: PgLeases) => l.owned().length;
    try {
      for (const name of names) a!.hold(name, connection(log, `a ${name}`).holding);
      await until('a owns all five', () => owned(a!) === 5);
      for (const name of names) b!.hold(name, connection(log, `b ${name}`).holding);
      await until('a and b share them 3 + 2', () => owned(a!) + owned(b!) === 5 && Math.max(owned(a!), owned(b!)) === 3, 5000);
      for (const name of names) c!.hold(name, connection(log, `c ${name}`).holding);
      await until('a, b and c share them 2 + 2 + 1', () => owned(a!) + owned(b!) + owned(c!) === 5 && Math.max(owned(a!), owned(b!), owned(c!)) === 2, 5000);
      // a's database goes: its leases run out and b and c take them, whatever the shares were.
      const orphaned = owned(a!);
      const died = Date.now();
      await pools[0]!.end();
      await until('b and c own all five', () => owned(b!) + owned(c!) === 5, 5000);
      assert.ok(orphaned > 0);
      assert.ok(Date.now() - died < 1200 + 3 * 200 + 500, `taken over in ${Date.now() - died} ms`);
      // Never two owners of one connection at once: each start of a name follows the previous owner's stop.
      for (const name of names) {
        const events = log.filter((l) => l.includes(` ${name} `)).map((l) => l.split(' ')[0] + (l.includes('stop') ? '-' : '+'));
        let up = 0;
        for (const e of events) {
          up += e.endsWith('+') ? 1 : -1;
          assert.ok(up <= 1, `${name}: ${events.join(' ')}`);
        }
      }
    } finally {
      await Promise.all([b!.close(), c!.close(), a!.close().catch(() => {})]);
      await pools[1]!.end();
      await pools[2]!.end();
    }
  });
});

describe('leases on Postgres: slow and failing starts', { skip: postgresSkip }, () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  before(async () => {
    db = await createTestDatabase('leases_start');
    const pool = poolFor(db.url);
    await migrate(pool, { logger });
    await pool.end();
  });
  after(async () => db?.drop());

  it('a start slower than the TTL keeps the lease (renewals go on); a start that throws gives it up to be tried again', async () => {
    const pool = poolFor(db.url);
    const leases = new PgLeases({ pool, logger, ttlMs: 800, renewMs: 200 });
    const log: string[] = [];
    let attempts = 0;
    try {
      leases.hold('slow', {
        start: async (f) => {
          await new Promise((r) => setTimeout(r, 1500));
          log.push(`slow started ${f.token}`);
        },
        stop: async () => {
          log.push('slow stopped');
        },
      });
      leases.hold('flaky', {
        start: async () => {
          if (++attempts < 3) throw new Error('platform unreachable');
          log.push('flaky started');
        },
        stop: async () => {},
      });
      await until('both started', () => log.includes('slow started 1') && log.includes('flaky started'), 10_000);
      assert.ok(!log.includes('slow stopped'), log.join(', '));
      assert.equal(attempts, 3);
      assert.deepEqual(
        leases
          .owned()
          .map((o) => o.name)
          .sort(),
        ['flaky', 'slow'],
      );
    } finally {
      await leases.close();
      await pool.end();
    }
  });
});

describe('the sole owner (embedded database)', () => {
  it('starts at once and stops on close', async () => {
    const log: string[] = [];
    const leases = new SoleOwner(logger);
    const c = connection(log, 'only');
    leases.hold('z', c.holding);
    await until('started', () => !!c.fence());
    assert.deepEqual(leases.owned(), [{ name: 'z', up: true }]);
    await leases.close();
    assert.deepEqual(log, ['only start 0', 'only stop']);
  });
});
