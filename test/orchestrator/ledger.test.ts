import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { createLogger } from '../../core/log.js';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { LedgerInputError, normaliseWorkItemId, summarizeInFlight, WorkItemNotFoundError, WorkLedger, type WorkItem, type WorkState } from '../../ledger/index.js';
import { tempDir } from '../support/pantheon-process.js';
import { createTestDatabase, postgresSkip } from '../support/postgres.js';

const logger = createLogger({ level: 'silent' });

/** A name no other test in this file uses, so tests sharing one database do not see each other. */
const unique = (label: string) => `${label}-${randomUUID().slice(0, 6)}`;

function ledgerSuite(pool: () => pg.Pool): void {
  test('create gives a short typable id, stores every field and records a created event', async () => {
    const ledger = new WorkLedger(pool());
    const thread = unique('local:general');
    const item = await ledger.create({
      kind: 'issue',
      title: '  Add rate limiting  ',
      originThread: thread,
      originPlatform: 'local',
      requestedBy: 'jeff',
      owner: 'apollo',
      reviewers: ['artemis', 'perseus', 'artemis'],
      actor: 'athena',
    });
    assert.match(item.id, /^W-\d+$/);
    assert.equal(item.title, 'Add rate limiting');
    assert.equal(item.state, 'requested');
    assert.deepEqual(item.reviewers, ['artemis', 'perseus']);
    assert.equal(item.originThread, thread);
    assert.ok(item.createdAt instanceof Date);

    const number = item.id.slice(2);
    for (const typed of [item.id, item.id.toLowerCase(), `#${number}`, number, `W${number}`]) {
      assert.equal((await ledger.get(typed))?.id, item.id, `get(${typed})`);
    }
    assert.equal(await ledger.get('W-999999999'), undefined);

    const events = await ledger.events(item.id);
    assert.deepEqual(
      events.map((e) => [e.kind, e.actor]),
      [['created', 'athena']],
    );
    assert.equal(events[0].detail.title, 'Add rate limiting');
    assert.equal(events[0].detail.owner, 'apollo');
  });

  test('create is idempotent by dedupeKey and by externalRef', async () => {
    const ledger = new WorkLedger(pool());
    const dedupeKey = unique('handoff');
    const first = await ledger.ensure({ kind: 'chat_request', title: 'Restart staging', dedupeKey, actor: 'athena' });
    const replay = await ledger.ensure({ kind: 'chat_request', title: 'Restart staging (replayed)', dedupeKey, actor: 'athena' });
    assert.equal(first.created, true);
    assert.equal(replay.created, false);
    assert.equal(replay.item.id, first.item.id);
    assert.equal(replay.item.title, 'Restart staging');

    const ref = `gh:acme/api#${Math.floor(Math.random() * 1e6)}`;
    const a = await ledger.create({ kind: 'issue', title: 'Issue from webhook', externalRef: ref, actor: 'github' });
    const b = await ledger.create({ kind: 'issue', title: 'Same issue again', externalRef: ref, actor: 'github' });
    assert.equal(b.id, a.id);
    assert.equal((await ledger.getByExternalRef(ref))?.id, a.id);

    // Concurrent creates of the same thing end with one item and one created event.
    const key = unique('race');
    const made = await Promise.all(Array.from({ length: 5 }, () => ledger.create({ kind: 'job', title: 'Deploy', dedupeKey: key, actor: 'hephaestus' })));
    assert.equal(new Set(made.map((m) => m.id)).size, 1);
    assert.equal((await ledger.events(made[0].id)).filter((e) => e.kind === 'created').length, 1);
  });

  test('create refuses unknown kinds and states and an empty title', async () => {
    const ledger = new WorkLedger(pool());
    await assert.rejects(
      ledger.create({ kind: 'epic' as never, title: 'x', actor: 'a' }),
      (err: Error) => err instanceof LedgerInputError && /unknown work item kind "epic": use one of chat_request, issue, pull_request, job/.test(err.message),
    );
    await assert.rejects(ledger.create({ kind: 'job', title: 'x', state: 'finished' as never, actor: 'a' }), /unknown work item state "finished"/);
    await assert.rejects(ledger.create({ kind: 'job', title: '   ', actor: 'a' }), /needs a title/);
  });

  test('transitions record state_changed events; the same state is a no-op; unknown states are refused', async () => {
    const ledger = new WorkLedger(pool());
    const item = await ledger.create({ kind: 'issue', title: 'Transitions', actor: 'athena' });
    const moved = await ledger.transition(item.id, 'in_progress', { actor: 'apollo' });
    assert.equal(moved.state, 'in_progress');
    assert.ok(moved.updatedAt.getTime() >= item.updatedAt.getTime());
    const again = await ledger.transition(item.id, 'in_progress', { actor: 'apollo' });
    assert.equal(again.state, 'in_progress');
    await ledger.transition(`#${item.id.slice(2)}`, 'in_review', { actor: 'apollo', note: 'PR opened' });
    await assert.rejects(
      ledger.transition(item.id, 'shipped' as WorkState, { actor: 'apollo' }),
      /unknown work item state "shipped": use one of requested, in_progress, in_review, changes_requested, approved, merged, blocked, done/,
    );
    await assert.rejects(ledger.transition('W-999999999', 'done', { actor: 'apollo' }), (err: Error) => err instanceof WorkItemNotFoundError && err.message === 'no work item W-999999999');

    const events = await ledger.events(item.id);
    assert.deepEqual(
      events.map((e) => [e.kind, e.actor, e.detail]),
      [
        ['created', 'athena', events[0].detail],
        ['state_changed', 'apollo', { from: 'requested', to: 'in_progress' }],
        ['state_changed', 'apollo', { from: 'in_progress', to: 'in_review', note: 'PR opened' }],
      ],
    );
    assert.equal((await ledger.get(item.id))?.state, 'in_review');
  });

  test('assign, addReviewer, progress and notes are events; repeats change nothing', async () => {
    const ledger = new WorkLedger(pool());
    const item = await ledger.create({ kind: 'pull_request', title: 'Reviewers', actor: 'athena' });
    assert.equal((await ledger.assign(item.id, 'apollo', 'athena')).owner, 'apollo');
    await ledger.assign(item.id, 'apollo', 'athena');
    assert.equal((await ledger.assign(item.id, 'hermes', 'athena')).owner, 'hermes');
    await ledger.addReviewer(item.id, 'artemis', 'hermes');
    const withBoth = await ledger.addReviewer(item.id, 'perseus', 'hermes');
    assert.deepEqual((await ledger.addReviewer(item.id, 'artemis', 'hermes')).reviewers, ['artemis', 'perseus']);
    assert.deepEqual(withBoth.reviewers, ['artemis', 'perseus']);
    const progress = await ledger.recordProgress(item.id, { actor: 'hermes', text: 'tests pass, token ghp_abcdefghijklmnopqrstuvwxyz0123 used' });
    assert.equal(progress.kind, 'progress');
    assert.equal(progress.detail.text, 'tests pass, token [REDACTED] used', 'secrets in progress text are scrubbed');
    await ledger.addNote(item.id, { actor: 'jeff', text: 'merge after the release' });
    await assert.rejects(ledger.recordProgress('W-999999999', { actor: 'x', text: 'y' }), WorkItemNotFoundError);

    const events = await ledger.events(item.id);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['created', 'assigned', 'assigned', 'reviewer_added', 'reviewer_added', 'progress', 'note'],
    );
    assert.deepEqual(events[1].detail, { from: null, to: 'apollo' });
    assert.deepEqual(events[2].detail, { from: 'apollo', to: 'hermes' });
    assert.deepEqual(events[4].detail, { reviewer: 'perseus' });
  });

  test('inFlight filters by owner and thread, leaves out done and merged, and puts the newest activity first', async () => {
    const ledger = new WorkLedger(pool());
    const thread = unique('local:team');
    const owner = unique('apollo');
    const a = await ledger.create({ kind: 'issue', title: 'A', originThread: thread, owner, actor: 'athena' });
    const b = await ledger.create({ kind: 'issue', title: 'B', originThread: thread, owner: 'hermes', actor: 'athena' });
    const c = await ledger.create({ kind: 'job', title: 'C', originThread: thread, owner, actor: 'athena' });
    const d = await ledger.create({ kind: 'issue', title: 'D', originThread: thread, owner, actor: 'athena' });
    const e = await ledger.create({ kind: 'issue', title: 'E', originThread: unique('local:other'), owner, actor: 'athena' });
    await ledger.transition(c.id, 'done', { actor: owner });
    await ledger.transition(d.id, 'merged', { actor: 'jeff' });
    // Later than the merge by the clock too (times are kept to the millisecond; a tie is ordered by id).
    await new Promise((r) => setTimeout(r, 5));
    await ledger.recordProgress(a.id, { actor: owner, text: 'halfway' });

    const ids = (items: WorkItem[]) => items.map((i) => i.title);
    assert.deepEqual(ids(await ledger.inFlight({ thread })), ['A', 'B'], 'A moved to the top by its progress; C and D are finished');
    assert.deepEqual(ids(await ledger.inFlight({ owner })), ['A', 'E']);
    assert.deepEqual(ids(await ledger.inFlight({ owner, thread })), ['A']);
    assert.deepEqual(ids(await ledger.forThread(thread)), ['A', 'D', 'C', 'B']);
    assert.deepEqual(ids(await ledger.list({ owner, includeFinished: true })), ['A', 'D', 'C', 'E']);

    await ledger.transition(a.id, 'blocked', { actor: owner, note: 'waiting for credentials' });
    assert.deepEqual(ids(await ledger.inFlight({ thread })), ['A', 'B'], 'blocked is still in flight');
    await ledger.transition(b.id, 'changes_requested', { actor: 'artemis' });
    assert.deepEqual(ids(await ledger.inFlight({ thread })), ['B', 'A']);
    void e;
  });
}

describe('work ledger on embedded PGlite', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let db: Database;
  before(async () => {
    dir = await tempDir('pantheon-ledger-');
    db = await createDatabase({ dataDir: dir.path, logger });
    await migrate(db.pool, { logger });
  });
  after(async () => {
    await db?.close();
    await dir?.remove();
  });
  ledgerSuite(() => db.pool);
});

describe('work ledger on PostgreSQL', { skip: postgresSkip }, () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;
  before(async () => {
    testDb = await createTestDatabase('ledger');
    db = await createDatabase({ url: testDb.url, dataDir: '/nonexistent', logger });
    await migrate(db.pool, { logger });
  });
  after(async () => {
    await db?.close();
    await testDb?.drop();
  });
  ledgerSuite(() => db.pool);
});

describe('summarizeInFlight', () => {
  const now = new Date('2025-03-01T12:00:00Z');
  const item = (over: Partial<WorkItem>): WorkItem => ({
    id: 'W-12',
    kind: 'issue',
    title: 'Add rate limiting',
    originThread: 'local:general',
    originPlatform: 'local',
    requestedBy: 'jeff',
    owner: 'apollo',
    reviewers: [],
    state: 'in_progress',
    externalRef: null,
    dedupeKey: null,
    createdAt: new Date('2025-03-01T10:00:00Z'),
    updatedAt: new Date('2025-03-01T11:55:00Z'),
    ...over,
  });

  test('says so when nothing is in flight', () => {
    assert.equal(summarizeInFlight([], now), 'Nothing in flight.');
  });

  test('one line per item: id, owner, title, state, origin and age', () => {
    const text = summarizeInFlight(
      [
        item({}),
        item({ id: 'W-13', owner: null, title: 'Restart staging', state: 'requested', originThread: 'telegram:123', updatedAt: new Date('2025-03-01T09:00:00Z') }),
        item({
          id: 'W-14',
          owner: 'hermes',
          kind: 'pull_request',
          title: 'Fix login',
          state: 'in_review',
          externalRef: 'gh:acme/api#7',
          originThread: null,
          updatedAt: new Date('2025-02-26T12:00:00Z'),
        }),
      ],
      now,
    );
    assert.equal(
      text,
      [
        '3 items in flight:',
        '- W-12 apollo — Add rate limiting (in_progress, from local:general, 5 min ago)',
        '- W-13 unassigned — Restart staging (requested, from telegram:123, 3 h ago)',
        '- W-14 hermes — Fix login [gh:acme/api#7] (in_review, 3 d ago)',
      ].join('\n'),
    );
    assert.equal(summarizeInFlight([item({ updatedAt: now })], now), '1 item in flight:\n- W-12 apollo — Add rate limiting (in_progress, from local:general, just now)');
  });

  test('lists at most 15 and counts the rest', () => {
    const many = Array.from({ length: 18 }, (_, i) => item({ id: `W-${i + 1}` }));
    const lines = summarizeInFlight(many, now).split('\n');
    assert.equal(lines[0], '18 items in flight:');
    assert.equal(lines.length, 1 + 15 + 1);
    assert.equal(lines.at(-1), '… and 3 more');
  });

  test('normaliseWorkItemId reads what people type', () => {
    assert.equal(normaliseWorkItemId('#12'), 'W-12');
    assert.equal(normaliseWorkItemId(' w-7 '), 'W-7');
    assert.equal(normaliseWorkItemId('12'), 'W-12');
    assert.equal(normaliseWorkItemId('gh:acme/api#12'), 'gh:acme/api#12');
  });
});
