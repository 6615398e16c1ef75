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
    await db.pool.query('TRUNCATE schedule_runs, schedule_state');
  });

  const make = (schedules: ScheduleConfig[], clock: ManualClock) =>
    new Scheduler({
      schedules,
      store: new ScheduleStore(db.pool),
      ingress: async (e) => {
        const accepted = !envelopes.some((x) => x.id === e.id);
        if (accepted) envelopes.push(e);
        return { id: e.id, accepted };
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
      work: { check: async () => (checkOk ? { ok: true, detail: 'fine', reported: true } : { ok: false, detail: 'api is down', reported: true }) },
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
    assert.equal(run!.status, 'ok');
    assert.equal(envelopes.length, 1);
    assert.equal(await s.runNow('stand-down'), undefined);
  });
});
