import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { createTestDatabase, postgresSkip } from '../support/postgres.js';
import { modelEnv, startPantheonProcess, tempDir, type RunningPantheon } from '../support/pantheon-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Issue 16, part 5: the periodic retention pass has one owner across replicas, through core/leases
 * (the `retention` lease, fenced by its token). Two `pantheon start` processes on one Postgres:
 * only the lease's owner runs passes (each process's /metrics says how many it ran); when the
 * owner stops, the other takes the lease over at once and its pass removes what is due.
 */
describe('retention across replicas: one process prunes', { skip: postgresSkip }, () => {
  let llm: FakeLLM;
  before(async () => {
    llm = await startFakeLLM();
  });
  after(async () => {
    await llm.close();
  });

  it('two processes: only the retention lease’s owner prunes; the other takes over when it stops', { timeout: 180_000 }, async () => {
    const dir = await tempDir('pantheon-retention-lease-');
    const db = await createTestDatabase('retention_lease');
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    await writeFile(join(dir.path, 'pantheon.yaml'), ['retention: { auditDays: 0, intervalMinutes: 60 }', 'leases: { ttlSeconds: 4 }'].join('\n'));
    const env = modelEnv(llm, { DATABASE_URL: db.url });
    const start = (n: number) => startPantheonProcess({ env, dataDir: join(dir.path, `data-${n}`), cwd: dir.path, timeoutMs: 90_000 });
    const passes = async (app: RunningPantheon) => Number(/^pantheon_retention_passes_total\{outcome="done"\} (\d+)$/m.exec(await (await fetch(`${app.url}/metrics`)).text())?.[1] ?? 0);
    const owner = async () => (await pool.query<{ owner: string }>(`SELECT owner FROM leases WHERE name = 'retention' AND expires_at > now()`)).rows[0]?.owner;
    const audited = async () => (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log')).rows[0]!.n;
    const apps: RunningPantheon[] = [];
    try {
      apps.push(await start(0), await start(1));
      const [a, b] = apps as [RunningPantheon, RunningPantheon];
      let held: string | undefined;
      for (let i = 0; i < 100 && !held; i++) {
        held = await owner();
        if (!held) await sleep(100);
      }
      const first = apps.find((app) => held?.split('/')[1] === String(app.child.pid));
      assert.ok(first, `the retention lease is held by one of the two (${held})`);
      const second = first === a ? b : a;
      for (let i = 0; i < 100 && (await passes(first)) < 1; i++) await sleep(100);
      // Both renew or try the lease every second: a few seconds in, still one owner and one pass.
      await sleep(3000);
      assert.equal(await passes(first), 1, 'the owner ran a pass when it took the lease');
      assert.equal(await passes(second), 0, 'the other ran none');
      assert.equal(await owner(), held, 'and did not take the lease');

      // An audit entry due for removal (auditDays: 0); the owner stops: the other takes over and prunes it.
      await pool.query(`INSERT INTO audit_log (at, kind, persona, tool, outcome) VALUES (now() - interval '1 hour', 'tool_call', 'apollo', 'list_team', 'ok')`);
      assert.equal(await audited(), 1);
      assert.equal(await first.stop(), 0);
      for (let i = 0; i < 100 && (await passes(second)) < 1; i++) await sleep(100);
      assert.equal(await passes(second), 1, 'the other process took the lease over and ran a pass');
      assert.equal((await owner())?.split('/')[1], String(second.child.pid));
      assert.equal(await audited(), 0, 'its pass removed what was due');
      const { rows } = await pool.query<{ t: string | null }>(`SELECT to_regclass('maintenance_leases')::text AS t`);
      assert.equal(rows[0]!.t, null, 'no lease table of its own');
    } finally {
      for (const app of apps) if (app.child.exitCode === null && app.child.signalCode === null) assert.equal(await app.stop(), 0);
      await pool.end();
      await db.drop();
      await dir.remove();
    }
  });
});
