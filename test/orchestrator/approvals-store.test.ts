import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../core/log.js';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { ApprovalStore, type ApprovalRequest } from '../../orchestrator/approvals/index.js';
import { createTestDatabase, postgresSkip } from '../support/postgres.js';

const logger = createLogger({ level: 'silent' });

function request(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    toolCallId: `call_${Math.random().toString(36).slice(2)}`,
    thread: 'local:general',
    platform: 'local',
    persona: 'hephaestus',
    tool: 'ssh_run',
    args: { host: 'staging-1', command: 'systemctl restart api' },
    reason: 'the API is stuck',
    risk: 'infra',
    runId: 'run-1',
    inboundId: 'in-1',
    ttlMinutes: 60,
    ...overrides,
  };
}

/** The same behaviour on the embedded database and on a real Postgres. */
function storeSuite(name: string, open: () => Promise<{ db: Database; cleanup: () => Promise<void> }>, skip: string | false = false) {
  describe(name, { skip }, () => {
    let db: Database;
    let cleanup: () => Promise<void>;
    let store: ApprovalStore;
    before(async () => {
      ({ db, cleanup } = await open());
      await migrate(db.pool, { logger });
      store = new ApprovalStore(db.pool);
    });
    after(async () => {
      await cleanup?.();
    });

    test('a request is pending with a short id; asking again for the same tool call returns the same row', async () => {
      const req = request();
      const first = await store.request(req);
      assert.match(first.id, /^[2-9a-hjkmnp-z]{5}$/);
      assert.equal(first.status, 'pending');
      assert.equal(first.toolCallId, req.toolCallId);
      assert.deepEqual(first.args, req.args);
      assert.equal(first.reason, 'the API is stuck');
      assert.equal(first.runId, 'run-1');
      assert.equal(first.inboundId, 'in-1');
      const ttl = first.expiresAt.getTime() - first.requestedAt.getTime();
      assert.ok(Math.abs(ttl - 60 * 60_000) < 1000, `expires an hour after the request (got ${ttl} ms)`);

      const again = await Promise.all([store.request(req), store.request({ ...req, runId: 'run-2' })]);
      assert.deepEqual(
        again.map((a) => a.id),
        [first.id, first.id],
      );
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM approvals WHERE tool_call_id = $1', [req.toolCallId]);
      assert.equal(rows[0].n, 1);
      assert.deepEqual((await store.get(first.id.toUpperCase()))?.id, first.id, 'ids are case-insensitive');
    });

    test('a tool call id reused by a different call is refused, not answered with the old approval', async () => {
      const req = request({ toolCallId: 'call_0' });
      await store.request(req);
      await assert.rejects(store.request({ ...req, args: { host: 'prod-1', command: 'rm -rf /' } }), /already used by another call/);
      await assert.rejects(store.request({ ...req, thread: 'local:other' }), /already used by another call/);
    });

    test('decide settles a request once; the loser learns who won', async () => {
      const a = await store.request(request());
      const results = await Promise.all([store.decide(a.id, { approved: true, by: 'jeff' }), store.decide(a.id.toUpperCase(), { approved: false, by: 'bob', note: 'no' })]);
      const winners = results.filter((r) => r.ok);
      assert.equal(winners.length, 1, 'exactly one answer counts');
      const loser = results.find((r) => !r.ok)!;
      assert.deepEqual(!loser.ok && loser.reason, 'already_decided');
      const stored = await store.get(a.id);
      assert.ok(stored?.status === 'approved' || stored?.status === 'denied');
      assert.ok(stored?.decidedAt instanceof Date);
      assert.deepEqual(await store.decide('zzzzz', { approved: true, by: 'jeff' }), { ok: false, reason: 'unknown' });
      // Asking again after the answer gives the answered row (a replayed run finds the decision).
      assert.equal((await store.request({ ...request(), toolCallId: a.toolCallId })).status, stored!.status);
    });

    test('an answer after the expiry is refused and marks the request expired', async () => {
      const a = await store.request(request({ ttlMinutes: 0.0001 }));
      await new Promise((r) => setTimeout(r, 30));
      const result = await store.decide(a.id, { approved: true, by: 'jeff' });
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.reason, 'expired');
      assert.equal((await store.get(a.id))?.status, 'expired');
      assert.equal((await store.decide(a.id, { approved: true, by: 'jeff' })).ok, false);
    });

    test('expireDue marks overdue pending requests expired and returns them, once', async () => {
      const thread = `local:expiry-${Math.random().toString(36).slice(2)}`;
      const overdue = await store.request(request({ thread, ttlMinutes: 0.0001 }));
      const open = await store.request(request({ thread, ttlMinutes: 60 }));
      const answered = await store.request(request({ thread, ttlMinutes: 0.0001 }));
      await store.decide(answered.id, { approved: true, by: 'jeff' }).catch(() => {});
      await new Promise((r) => setTimeout(r, 30));
      const expired = await store.expireDue();
      assert.ok(expired.some((e) => e.id === overdue.id && e.status === 'expired'));
      assert.ok(!expired.some((e) => e.id === open.id));
      assert.equal((await store.expireDue()).filter((e) => e.thread === thread).length, 0, 'a second sweep finds nothing new');
      assert.deepEqual(
        (await store.pendingForThread(thread)).map((a) => a.id),
        [open.id],
      );
    });
  });
}

let dataDir: string | undefined;
storeSuite('ApprovalStore on embedded PGlite', async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pantheon-approvals-'));
  const db = await createDatabase({ dataDir, logger });
  return {
    db,
    cleanup: async () => {
      await db.close();
      rmSync(dataDir!, { recursive: true, force: true });
    },
  };
});

storeSuite(
  'ApprovalStore on PostgreSQL',
  async () => {
    const t = await createTestDatabase('approvals');
    const db = await createDatabase({ url: t.url, dataDir: '', logger });
    return {
      db,
      cleanup: async () => {
        await db.close();
        await t.drop();
      },
    };
  },
  postgresSkip,
);
