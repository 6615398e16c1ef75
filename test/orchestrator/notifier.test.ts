import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutboundMessage } from '../../core/chat/types.js';
import { ManualClock } from '../../core/clock/index.js';
import type { HumanConfig } from '../../core/config/schema.js';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { createLogger } from '../../core/log.js';
import { ApprovalStore, Approvers } from '../../orchestrator/approvals/index.js';
import { ApprovalRouting } from '../../orchestrator/approvals/routing.js';
import { Notifier } from '../../orchestrator/notify/notifier.js';
import { isQuiet, quietEnds } from '../../orchestrator/notify/quiet-hours.js';
import { mentionNotices } from '../../orchestrator/notify/mentions.js';
import '../../cli/platforms.js';

const logger = createLogger({ level: 'silent' });
const berlinNights = { from: '22:00', to: '07:00', timezone: 'Europe/Berlin' };
const newYorkNights = { from: '20:00', to: '08:00', timezone: 'America/New_York' };
const ALL = ['approvals', 'failures', 'finished', 'mentions'] as const;

const HUMANS: HumanConfig[] = [
  { id: 'ann', local: 'ann', approver: true, notify: { via: ['local'], quietHours: berlinNights, kinds: [...ALL] } },
  { id: 'bob', local: 'bob', approver: true, notify: { via: ['local'], quietHours: newYorkNights, kinds: [...ALL] } },
  { id: 'cy', local: 'cy', approver: false, notify: { via: ['local'], kinds: ['finished'] } },
  { id: 'dee', local: 'dee', approver: true },
] as HumanConfig[];

test('quiet hours: spanning midnight, in their own time zone; they end at `to` there', () => {
  assert.equal(isQuiet(berlinNights, new Date('2026-03-02T21:30:00Z')), true, '22:30 in Berlin');
  assert.equal(isQuiet(berlinNights, new Date('2026-03-02T20:59:00Z')), false, '21:59 in Berlin');
  assert.equal(isQuiet(berlinNights, new Date('2026-03-03T06:00:00Z')), false, '07:00 in Berlin');
  assert.equal(isQuiet({ from: '09:00', to: '17:00', timezone: 'UTC' }, new Date('2026-03-03T12:00:00Z')), true);
  assert.equal(quietEnds(berlinNights, new Date('2026-03-02T22:30:00Z')).toISOString(), '2026-03-03T06:00:00.000Z');
  // Summer time: 07:00 in Berlin is 05:00Z.
  assert.equal(quietEnds(berlinNights, new Date('2026-07-01T01:00:00Z')).toISOString(), '2026-07-01T05:00:00.000Z');
});

describe('the notifier and approval routing (ManualClock, PGlite)', () => {
  let db: Database;
  let dir: string;
  const posts: OutboundMessage[] = [];
  const outbox = {
    send: async (m: OutboundMessage) => {
      posts.push(m);
      return { queued: true };
    },
    directThreadFor: (platform: string, userId: string) => (platform === 'local' ? `local:dm-${userId}` : undefined),
  };
  const to = (thread: string) => posts.filter((p) => p.threadId === thread).map((p) => p.text);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pantheon-notifier-'));
    db = await createDatabase({ dataDir: dir, logger });
    await migrate(db.pool, { logger });
  });
  after(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    posts.length = 0;
    await db.pool.query('TRUNCATE notifications, approvals');
  });

  const notifierAt = (clock: ManualClock) => new Notifier({ pool: db.pool, outbox, humans: HUMANS, approvers: new Approvers(HUMANS), clock, logger });

  test('kinds and quiet hours: awake people get it now, once; sleeping ones get one digest when their quiet hours end', async () => {
    const clock = new ManualClock('2026-03-02T22:30:00Z'); // 23:30 Berlin, 17:30 New York
    const notifier = notifierAt(clock);
    const failure = { kind: 'failures' as const, key: 'job:1', text: 'Infra job j-1 failed', to: 'everyone' as const, thread: 'local:ops' };
    assert.deepEqual(await notifier.notify(failure), { sent: ['bob'], held: ['ann'] });
    assert.deepEqual(await notifier.notify(failure), { sent: [], held: [] }, 'once per key and person');
    await notifier.notify({ ...failure, key: 'job:2', text: 'Infra job j-2 failed' });
    assert.deepEqual(to('local:dm-bob'), ['Infra job j-1 failed\n(from local:ops)', 'Infra job j-2 failed\n(from local:ops)']);
    assert.deepEqual(to('local:dm-cy'), [], 'cy wants finished work only');
    assert.deepEqual(to('local:dm-dee'), [], 'without preferences: approval requests only');
    assert.equal(await notifier.deliverDigests(), 0, 'ann still sleeps');
    clock.set('2026-03-03T06:00:30Z'); // 07:00 Berlin
    assert.equal(await notifier.deliverDigests(), 1);
    assert.equal(await notifier.deliverDigests(), 0, 'a digest goes out once');
    assert.deepEqual(to('local:dm-ann'), ['While you were in quiet hours (2 notices):\n• Infra job j-1 failed\n  (from local:ops)\n• Infra job j-2 failed\n  (from local:ops)']);
  });

  test('a work item finished: the person who asked hears of it, found by their platform id', async () => {
    const notifier = notifierAt(new ManualClock('2026-03-02T12:00:00Z'));
    await notifier.notify({ kind: 'finished', key: 'work:W-1', text: 'Your work W-1 is ready', to: [{ platform: 'local', userId: 'cy' }], thread: 'local:planning' });
    assert.deepEqual(to('local:dm-cy'), ['Your work W-1 is ready\n(from local:planning)']);
  });

  test("a persona's @mention of a human who wants mentions becomes a notice; other text does not", async () => {
    const notifier = notifierAt(new ManualClock('2026-03-02T12:00:00Z'));
    const listener = mentionNotices({ notifier, humans: HUMANS });
    const said = (text: string, role: 'agent' | 'system' = 'agent') =>
      listener({ idempotencyKey: `k-${text}`, platform: 'local', threadId: 'local:planning', role, persona: 'athena', text }, { id: 'm' });
    await said('@ann can you decide on the rate limit?');
    await said('mail ann@example.com or @annabel');
    await said('@ann system notices are not mentions', 'system');
    await said('@cy the build is green'); // cy wants finished work only
    assert.deepEqual(to('local:dm-ann'), ['athena mentioned you: @ann can you decide on the rate limit?\n(from local:planning)']);
    assert.deepEqual(to('local:dm-cy'), []);
  });

  const request = async (store: ApprovalStore, thread = 'local:deploy') =>
    store.request({ toolCallId: `call-${Math.random()}`, thread, platform: 'local', persona: 'athena', tool: 'post_message', args: {}, risk: 'write', runId: 'r', ttlMinutes: 60 });

  test('an approval goes to the awake approver instead of the sleeping one; unanswered, it escalates to the next, then the channel; the thread is told', async () => {
    const clock = new ManualClock('2026-03-02T22:30:00Z');
    const notifier = notifierAt(clock);
    const store = new ApprovalStore(db.pool, clock);
    const routing = new ApprovalRouting({ pool: db.pool, notifier, outbox, humans: HUMANS, escalation: { afterMinutes: 15, channel: 'local:ops' }, clock, logger });
    const approval = await request(store);
    await routing.route(approval);
    assert.equal(to('local:dm-bob').length, 1, 'bob is awake: asked first');
    assert.deepEqual(to('local:dm-ann'), [], 'ann sleeps: passed over');
    clock.advance(14 * 60_000);
    assert.equal(await routing.escalateDue((id) => store.get(id)), 0, 'not yet');
    clock.advance(61_000);
    await routing.escalateDue((id) => store.get(id));
    assert.equal(to('local:dm-dee').length, 1, 'dee (awake, no quiet hours) is next');
    assert.deepEqual(to('local:deploy'), [`Approval ${approval.id} has waited 15 min unanswered: escalated to dee.`]);
    clock.advance(15 * 60_000);
    await routing.escalateDue((id) => store.get(id));
    assert.equal(to('local:ops').length, 1, 'then the escalation channel');
    assert.match(to('local:ops')[0]!, /unanswered for 30 min in local:deploy/);
    assert.equal(to('local:deploy')[1], `Approval ${approval.id} has waited 30 min unanswered: escalated to local:ops.`);
    clock.advance(15 * 60_000);
    assert.equal(await routing.escalateDue((id) => store.get(id)), 0, 'nobody left to ask');
  });

  test('nobody awake: the request waits for every approver, the thread says so, and the first to wake gets it in a digest', async () => {
    const clock = new ManualClock('2026-03-03T05:30:00Z'); // 06:30 Berlin, 00:30 New York
    const humans = HUMANS.filter((h) => h.id !== 'dee');
    const notifier = new Notifier({ pool: db.pool, outbox, humans, approvers: new Approvers(humans), clock, logger });
    const store = new ApprovalStore(db.pool, clock);
    const routing = new ApprovalRouting({ pool: db.pool, notifier, outbox, humans, clock, logger });
    const approval = await request(store, 'local:release');
    await routing.route(approval);
    assert.match(to('local:release')[0]!, new RegExp(`^Every approver is in quiet hours, so ${approval.id} waits`));
    clock.set('2026-03-03T06:00:05Z');
    await notifier.deliverDigests();
    assert.match(to('local:dm-ann')[0]!, new RegExp(`^While you were in quiet hours \\(1 notice\\):\\n• Approval needed \\[${approval.id}\\]`));
    await store.decide(approval.id, { approved: true, by: 'ann' });
    clock.set('2026-03-03T13:00:05Z'); // 08:00 in New York
    await notifier.deliverDigests();
    assert.deepEqual(to('local:dm-bob'), [], 'an approval answered meanwhile is left out of the digest');
  });
});
