import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Envelope, OutboundMessage } from '../../core/chat/types.js';
import type { Notice } from '../../core/chat/notices.js';
import { ManualClock } from '../../core/clock/index.js';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { createLogger } from '../../core/log.js';
import type { ScheduleConfig } from '../../core/config/schedules.js';
import { Scheduler, ScheduleStore } from '../../orchestrator/schedules/index.js';

const logger = createLogger({ level: 'silent' });

function schedule(overrides: Partial<ScheduleConfig> = {}): ScheduleConfig {
  return {
    name: 'stand-up',
    cron: '0 9 * * 1-5',
    timezone: 'Europe/Berlin',
    thread: 'local:standup',
    persona: 'athena',
    prompt: 'Post the stand-up.',
    resolved: true,
    missed: 'once',
    enabled: true,
    ...overrides,
  };
}

/** The scheduler on the embedded database, with a clock the test moves and the ticks it drives. */
describe('Scheduler (ManualClock, PGlite)', () => {
  let db: Database;
  let dir: string;
  const envelopes: Envelope[] = [];
  const posts: OutboundMessage[] = [];
  const notices: Notice[] = [];
  let checkOk = true;
  let runbookOk = true;
  const occurrences: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pantheon-schedules-'));
    db = await createDatabase({ dataDir: dir, logger });
    await migrate(db.pool, { logger });
  });
  after(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    envelopes.length = 0;
    posts.length = 0;
    notices.length = 0;
    occurrences.length = 0;
    await db.pool.query('TRUNCATE schedule_runs, schedule_state, inbound_messages');
  });

  /** How the orchestrator marks a turn's message as the turn ends (orchestrator/turn/thread-sql.ts). */
  const turnEnded = (id: string, status: 'done' | 'failed' | 'paused', error: string | null = null) =>
    db.pool.query('UPDATE inbound_messages SET status = $2, error = $3 WHERE id = $1', [id, status, error]);

  const make = (schedules: ScheduleConfig[], clock: ManualClock) =>
    new Scheduler({
      schedules,
      store: new ScheduleStore(db.pool),
      // The ingress's durable record, as the real one writes it: a persona turn's end is read from it.
      ingress: async (e) => {
        const { rowCount } = await db.pool.query(`INSERT INTO inbound_messages (id, platform, conversation, text, payload) VALUES ($1, 'local', $2, $3, '{}') ON CONFLICT DO NOTHING`, [
          e.id,
          e.threadId,
          e.text,
        ]);
        if (rowCount) envelopes.push(e);
        return { id: e.id, accepted: rowCount === 1 };
      },
      outbox: {
        send: async (m) => {
          posts.push(m);
          return { queued: true };
        },
      },
      notifier: {
        notify: async (n) => {
          notices.push(n);
          return { sent: [], held: [] };
        },
      },
      work: {
        check: async () => (checkOk ? { ok: true, detail: 'fine', reported: true } : { ok: false, detail: 'api is down', reported: true }),
        runbook: async (_s, occurrence) => {
          occurrences.push(occurrence.toISOString());
          return runbookOk
            ? { ok: true, detail: 'runbook sync: 1 of 1 steps succeeded', report: 'Runbook sync (scheduled):\n1. push on app-1: ok' }
            : { ok: false, detail: 'runbook sync stopped: step 1 (push) on app-1 failed (exit 3)', report: 'Runbook sync (scheduled):\n✗ step 1 (push) on app-1 failed (exit 3)' };
        },
      },
      clock,
      logger,
      tickMs: 60_000_000, // ticks are driven by the test through start()
    });
  /** One tick at the clock's time (start() ticks once), then waits for the runs. */
  const tickAt = async (scheduler: Scheduler, clock: ManualClock, at: string) => {
    clock.set(at);
    await scheduler.stop();
    await scheduler.start();
    await scheduler.stop();
  };

  test('fires at 09:00 Berlin on a weekday, not at 08:59, once; the next run is the next weekday', async () => {
    const clock = new ManualClock('2026-03-06T07:58:00Z'); // Friday 08:58 Berlin
    const s = make([schedule()], clock);
    await tickAt(s, clock, '2026-03-06T07:58:00Z');
    await tickAt(s, clock, '2026-03-06T07:59:59Z');
    assert.equal(envelopes.length, 0);
    await tickAt(s, clock, '2026-03-06T08:00:00.400Z');
    await tickAt(s, clock, '2026-03-06T08:00:01Z');
    assert.deepEqual(
      envelopes.map((e) => [e.id, e.threadId, e.targets, e.text]),
      [['schedule:stand-up:2026-03-06T08:00:00.000Z', 'local:standup', ['athena'], 'Post the stand-up.']],
    );
    const [view] = await s.list();
    assert.equal(view!.lastRun!.trigger, 'cron');
    assert.equal(view!.nextRun, '2026-03-09T08:00:00.000Z', 'Monday, after the weekend');
  });

  test('two schedulers on one database (two replicas): each occurrence runs once', async () => {
    const clock = new ManualClock('2026-03-02T07:59:00Z');
    const a = make([schedule()], clock);
    const b = make([schedule()], clock);
    await Promise.all([a.start(), b.start()]);
    clock.set('2026-03-02T08:00:00.100Z');
    await Promise.all([a.stop(), b.stop()]);
    await Promise.all([a.start(), b.start()]);
    await Promise.all([a.stop(), b.stop()]);
    assert.equal(envelopes.length, 1);
    assert.equal((await db.pool.query('SELECT 1 FROM schedule_runs')).rowCount, 1);
  });

  test('after downtime: missed once runs the latest occurrence once; missed skip records it and runs nothing', async () => {
    const clock = new ManualClock('2026-03-02T07:00:00Z');
    const first = make([schedule(), schedule({ name: 'retro', missed: 'skip', thread: 'local:retro' })], clock);
    await tickAt(first, clock, '2026-03-02T07:00:00Z');
    const later = make([schedule(), schedule({ name: 'retro', missed: 'skip', thread: 'local:retro' })], clock);
    await tickAt(later, clock, '2026-03-05T10:00:00Z'); // Monday to Thursday: four occurrences missed
    assert.deepEqual(
      envelopes.map((e) => e.id),
      ['schedule:stand-up:2026-03-05T08:00:00.000Z'],
    );
    const [standUp, retro] = await later.list();
    assert.equal(standUp!.lastRun!.trigger, 'missed');
    assert.equal(retro!.lastRun!.status, 'skipped');
    assert.match(retro!.lastRun!.detail!, /^4 occurrences were missed/);
  });

  test('a failing check is told to the people who want failures once, until it passes again', async () => {
    const clock = new ManualClock('2026-03-02T07:00:00Z');
    const s = make([schedule({ name: 'api', cron: '* * * * *', persona: undefined, prompt: undefined, check: { kind: 'http', url: 'https://api.example.com' } })], clock);
    await tickAt(s, clock, '2026-03-02T07:00:00Z');
    checkOk = false;
    await tickAt(s, clock, '2026-03-02T07:01:00Z');
    await tickAt(s, clock, '2026-03-02T07:02:00Z');
    assert.equal(notices.length, 1, 'one failure notice for two failed runs');
    assert.equal(notices[0]!.kind, 'failures');
    assert.match(notices[0]!.text, /Schedule api failed: api is down/);
    assert.equal(posts.length, 0, 'a check posts its own incident');
    checkOk = true;
    await tickAt(s, clock, '2026-03-02T07:03:00Z');
    const [view] = await s.list();
    assert.equal(view!.failing, false);
    assert.equal(view!.lastRun!.status, 'ok');
    checkOk = false;
    await tickAt(s, clock, '2026-03-02T07:04:00Z');
    assert.equal(notices.length, 2, 'failing again after passing is told again');
  });

  test('a failing persona turn (its persona cannot be reached) is posted in its thread once', async () => {
    const clock = new ManualClock('2026-03-02T07:00:00Z');
    const s = new Scheduler({
      schedules: [schedule({ cron: '* * * * *' })],
      store: new ScheduleStore(db.pool),
      ingress: async () => {
        throw new Error('the ingress is down');
      },
      outbox: {
        send: async (m) => {
          posts.push(m);
          return { queued: true };
        },
      },
      notifier: {
        notify: async (n) => {
          notices.push(n);
          return { sent: [], held: [] };
        },
      },
      work: {},
      clock,
      logger,
      tickMs: 60_000_000,
    });
    await tickAt(s, clock, '2026-03-02T07:00:00Z');
    await tickAt(s, clock, '2026-03-02T07:01:00Z');
    await tickAt(s, clock, '2026-03-02T07:02:00Z');
    assert.deepEqual(
      posts.map((p) => [p.threadId, p.text]),
      [['local:standup', '⚠️ Schedule stand-up failed: the ingress is down (reported once, until it runs well again)']],
    );
  });

  test('runNow runs at once, whatever the schedule says; an unknown name is undefined', async () => {
    const clock = new ManualClock('2026-03-07T12:00:00Z'); // a Saturday
    const s = make([schedule()], clock);
    const run = await s.runNow('stand-up');
    assert.equal(run!.trigger, 'manual');
    assert.equal(run!.status, 'running', 'a turn runs until its answer');
    assert.equal(run!.detail, 'asked athena in local:standup; waiting for the answer');
    assert.equal(envelopes.length, 1);
    assert.equal(await s.runNow('stand-down'), undefined);
    await s.stop();
  });

  test("a persona turn's run ends with its turn: ok once answered; a failed turn is posted and told once; recovering is said", async () => {
    const clock = new ManualClock('2026-03-02T07:00:00Z');
    const s = make([schedule({ cron: '* * * * *' })], clock);
    const last = async () => (await s.list())[0]!;
    await tickAt(s, clock, '2026-03-02T07:00:00Z');
    await tickAt(s, clock, '2026-03-02T07:01:00Z');
    assert.deepEqual({ status: (await last()).lastRun!.status, detail: (await last()).lastRun!.detail }, { status: 'running', detail: 'asked athena in local:standup; waiting for the answer' });
    await turnEnded('schedule:stand-up:2026-03-02T07:01:00.000Z', 'done');
    await tickAt(s, clock, '2026-03-02T07:01:30Z'); // a replica taking the schedules over looks at the turns left at once
    assert.deepEqual({ status: (await last()).lastRun!.status, detail: (await last()).lastRun!.detail }, { status: 'ok', detail: 'athena answered in local:standup' });

    const told = 'Athena could not answer: openai:gpt-4.1-mini had a server error (500) after 3 attempts.';
    await tickAt(s, clock, '2026-03-02T07:02:00Z');
    await turnEnded('schedule:stand-up:2026-03-02T07:02:00.000Z', 'failed', told);
    await tickAt(s, clock, '2026-03-02T07:02:30Z');
    await tickAt(s, clock, '2026-03-02T07:03:00Z');
    await turnEnded('schedule:stand-up:2026-03-02T07:03:00.000Z', 'failed', told);
    await tickAt(s, clock, '2026-03-02T07:03:30Z');
    const view = await last();
    assert.equal(view.lastRun!.status, 'failed');
    assert.equal(view.lastRun!.detail, told);
    assert.equal(view.failing, true);
    assert.deepEqual(
      posts.map((p) => p.text),
      [`⚠️ Schedule stand-up failed: ${told} (reported once, until it runs well again)`],
      'two failed turns, one post',
    );
    assert.equal(notices.length, 1);

    await tickAt(s, clock, '2026-03-02T07:04:00Z');
    await turnEnded('schedule:stand-up:2026-03-02T07:04:00.000Z', 'paused');
    await tickAt(s, clock, '2026-03-02T07:04:30Z');
    assert.equal((await last()).lastRun!.detail, 'asked athena in local:standup; waiting for an approval');
    await turnEnded('schedule:stand-up:2026-03-02T07:04:00.000Z', 'done');
    await tickAt(s, clock, '2026-03-02T07:04:45Z');
    assert.equal((await last()).failing, false);
    assert.equal(posts.at(-1)!.text, '✅ Schedule stand-up runs well again: athena answered in local:standup');
    assert.equal(posts.length, 2);
  });

  test('a turn whose end two replicas see is recorded and reported by one', async () => {
    const clock = new ManualClock('2026-03-02T07:00:00Z');
    const a = make([schedule({ cron: '* * * * *' })], clock);
    const b = make([schedule({ cron: '* * * * *' })], clock);
    await tickAt(a, clock, '2026-03-02T07:00:00Z');
    await tickAt(a, clock, '2026-03-02T07:01:00Z');
    await turnEnded('schedule:stand-up:2026-03-02T07:01:00.000Z', 'failed', 'Athena could not answer.');
    await Promise.all([a.start(), b.start()]);
    await Promise.all([a.stop(), b.stop()]);
    assert.equal(posts.length, 1);
    assert.equal(notices.length, 1);
  });

  test("a runbook's report is posted after every good run, with its failure once, and with its recovery", async () => {
    const clock = new ManualClock('2026-03-02T07:00:00Z');
    const s = make([schedule({ name: 'sync', cron: '* * * * *', persona: undefined, prompt: undefined, runbook: 'sync' })], clock);
    await tickAt(s, clock, '2026-03-02T07:00:00Z');
    await tickAt(s, clock, '2026-03-02T07:01:00Z');
    runbookOk = false;
    await tickAt(s, clock, '2026-03-02T07:02:00Z');
    await tickAt(s, clock, '2026-03-02T07:03:00Z');
    runbookOk = true;
    await tickAt(s, clock, '2026-03-02T07:04:00Z');
    assert.deepEqual(occurrences, ['2026-03-02T07:01:00.000Z', '2026-03-02T07:02:00.000Z', '2026-03-02T07:03:00.000Z', '2026-03-02T07:04:00.000Z'], 'each run is told its occurrence');
    assert.deepEqual(
      posts.map((p) => [p.idempotencyKey, p.text]),
      [
        ['schedule:sync:ran:2026-03-02T07:01:00.000Z', 'Runbook sync (scheduled):\n1. push on app-1: ok'],
        ['schedule:sync:failed:2026-03-02T07:02:00.000Z', 'Runbook sync (scheduled):\n✗ step 1 (push) on app-1 failed (exit 3)\n⚠️ Schedule sync failed (reported once, until it runs well again)'],
        ['schedule:sync:recovered:2026-03-02T07:04:00.000Z', 'Runbook sync (scheduled):\n1. push on app-1: ok\n✅ Schedule sync runs well again'],
      ],
    );
    assert.deepEqual(
      notices.map((n) => n.text),
      ['⚠️ Schedule sync failed: runbook sync stopped: step 1 (push) on app-1 failed (exit 3) (reported once, until it runs well again)'],
    );
  });
  test('a runbook left running by a replica that is gone is recorded failed and reported once; one whose replica lives is left to it', async () => {
    const clock = new ManualClock('2026-03-02T07:00:30Z');
    const sync = schedule({ name: 'sync', cron: '* * * * *', persona: undefined, prompt: undefined, runbook: 'sync' });
    const sweep = schedule({ name: 'sweep', cron: '* * * * *', persona: undefined, prompt: undefined, runbook: 'sweep' });
    // Claimed at 07:00 by two replicas: node-a was killed mid-run, node-b is still running its step.
    await db.pool.query(
      `INSERT INTO schedule_runs (schedule, occurrence, trigger, status, owner, started_at) VALUES
         ('sync', '2026-03-02T07:00:00Z', 'cron', 'running', 'node-a/41|1a2b3c', '2026-03-02T07:00:00Z'),
         ('sweep', '2026-03-02T07:00:00Z', 'cron', 'running', 'node-b/42|4d5e6f', '2026-03-02T07:00:00Z')`,
    );
    await db.pool.query(`INSERT INTO leases (name, owner, token, expires_at) VALUES ('replica:node-b/42', 'node-b/42', 0, now() + interval '1 minute')`);
    try {
      const s = make([sync, sweep], clock);
      await s.start();
      await s.stop();
      await s.start(); // a second look reports nothing again
      await s.stop();
      const { rows } = await db.pool.query(`SELECT schedule, status, detail FROM schedule_runs WHERE occurrence = '2026-03-02T07:00:00Z' ORDER BY schedule`);
      assert.deepEqual(rows, [
        { schedule: 'sweep', status: 'running', detail: null },
        { schedule: 'sync', status: 'failed', detail: 'interrupted: the replica running it (node-a/41) stopped before it finished; the next occurrence runs as usual' },
      ]);
      assert.deepEqual(
        posts.map((p) => [p.threadId, p.text]),
        [
          [
            'local:standup',
            '⚠️ Schedule sync failed: interrupted: the replica running it (node-a/41) stopped before it finished; the next occurrence runs as usual (reported once, until it runs well again)',
          ],
        ],
      );
      assert.equal(notices.length, 1);
      assert.equal((await s.list()).find((v) => v.name === 'sync')!.failing, true);
    } finally {
      await db.pool.query(`DELETE FROM leases WHERE name = 'replica:node-b/42'`);
    }
  });
});
