/**
 * Retention of records (orchestrator/retention.ts) on the embedded database: a dry run counts per
 * kind and removes nothing; a pass removes superseded checkpoints (keeping each thread's latest and
 * its writes), audit entries past retention.auditDays (the append-only guard lets only that
 * statement through), the transcripts of threads whose work ended, and finished jobs' logs. The
 * periodic pass deletes under the `retention` lease's fence: with a stale token nothing goes.
 * Also the transcript archive those passes prune (orchestrator/graph/trim.ts): messages that leave
 * a thread's checkpoint are kept once each at their place in the thread (a step re-run after a
 * crash saves the same again, harmlessly), text Postgres would refuse is made storable, and the
 * console still finds an archived tool call's result (web/timeline.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { createLogger } from '../../core/log.js';
import { pruneRecords } from '../../orchestrator/retention.js';
import { archivedToolResults, pgTranscriptArchive } from '../../orchestrator/graph/trim.js';
import { resultsFromTranscript } from '../../web/timeline.js';
import { AIMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';

const logger = createLogger({ level: 'silent' });
const policy = { auditDays: 30, transcriptDays: 90, jobLogDays: 30, intervalMinutes: 60 } as const;

describe('retention of records', () => {
  let dir: string;
  let db: Database;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pantheon-retention-'));
    db = await createDatabase({ dataDir: dir, logger });
    await migrate(db.pool, { logger });
    const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
    // Two threads' checkpoints: three each, the latest with a paused approval's writes.
    for (const thread of ['local:a', 'local:b'])
      for (const id of ['1ef-01', '1ef-02', '1ef-03']) {
        await q(`INSERT INTO graph_checkpoints (thread_id, checkpoint_id, type, checkpoint, metadata_type, metadata) VALUES ($1, $2, 'json', '\\x7b7d', 'json', '\\x7b7d')`, [thread, id]);
        await q(`INSERT INTO graph_writes (thread_id, checkpoint_id, task_id, idx, channel, type, value) VALUES ($1, $2, 't', 0, '__interrupt__', 'json', '\\x7b7d')`, [thread, id]);
      }
    // Audit: one old entry, one recent.
    await q(
      `INSERT INTO audit_log (at, kind, persona, tool, outcome) VALUES (now() - interval '40 days', 'tool_call', 'apollo', 'list_team', 'ok'), (now(), 'tool_call', 'apollo', 'list_team', 'ok')`,
    );
    // Finished work from a Slack thread 100 days ago; work still in flight in another.
    await q(
      `INSERT INTO work_items (kind, title, origin_thread, state, updated_at) VALUES ('chat_request', 'old', 'slack:C1/1.0', 'done', now() - interval '100 days'), ('chat_request', 'live', 'slack:C2/2.0', 'in_progress', now() - interval '100 days')`,
    );
    for (const thread of ['slack:C1/1.0', 'slack:C2/2.0']) {
      await q(`INSERT INTO inbound_messages (id, platform, conversation, text, status, received_at) VALUES ($1, 'slack', $2, 'hi', 'done', now() - interval '100 days')`, [`in-${thread}`, thread]);
      await q(`INSERT INTO outbox (idempotency_key, platform, conversation, status, created_at) VALUES ($1, 'slack', $2, 'sent', now() - interval '100 days')`, [`out-${thread}`, thread]);
      await q(`INSERT INTO runs (id, conversation, status, started_at) VALUES ($1, $2, 'done', now() - interval '100 days')`, [`run-${thread}`, thread]);
      // Two messages that left the thread's checkpoint (folded and posted) 100 days ago.
      await pgTranscriptArchive(db.pool).save(thread, 0, [new HumanMessage({ id: `h-${thread}`, content: 'hi' }), new AIMessage({ id: `a-${thread}`, name: 'apollo', content: 'hello' })]);
      await q(`UPDATE transcript_archive SET archived_at = now() - interval '100 days' WHERE thread_id = $1`, [thread]);
    }
    // A job finished 40 days ago, with two log lines; one running.
    await q(
      `INSERT INTO infra_jobs (id, host, command, status, timeout_seconds, finished_at) VALUES ('j-old', 'h', 'uptime', 'succeeded', 60, now() - interval '40 days'), ('j-now', 'h', 'uptime', 'running', 60, NULL)`,
    );
    await q(`INSERT INTO infra_job_logs (job_id, seq, stream, line) VALUES ('j-old', 1, 'stdout', 'up 3 days'), ('j-old', 2, 'stdout', 'load 0.1'), ('j-now', 1, 'stdout', 'still going')`);
  });
  after(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const counts = (rows: Awaited<ReturnType<typeof pruneRecords>>) => Object.fromEntries(rows.map((r) => [r.kind, r.count]));

  test('a dry run counts per kind, with bytes, and removes nothing', async () => {
    const dry = await pruneRecords(db.pool, policy, { dryRun: true });
    assert.deepEqual(counts(dry), { checkpoint_writes: 4, checkpoints: 4, audit: 1, transcripts: 5, job_logs: 2 });
    for (const r of dry) assert.equal(r.count > 0, r.bytes > 0, `${r.kind}: bytes with rows`);
    assert.deepEqual(counts(await pruneRecords(db.pool, policy, { dryRun: true })), counts(dry), 'nothing was removed');
  });

  test('a pass removes them (only while its lease is current), keeping what resuming and live work need', async () => {
    // Another replica took the retention lease over (token 2): a pass still holding token 1 removes nothing.
    await db.pool.query(`INSERT INTO leases (name, owner, token, expires_at) VALUES ('retention', 'other', 2, now() + interval '1 minute')`);
    const stale = await pruneRecords(db.pool, policy, { dryRun: false, fence: { name: 'retention', token: 1 } });
    assert.deepEqual(counts(stale), { checkpoint_writes: 0, checkpoints: 0, audit: 0, transcripts: 0, job_logs: 0 }, 'a stale owner removes nothing');
    assert.deepEqual(counts(await pruneRecords(db.pool, policy, { dryRun: false, fence: { name: 'retention', token: 2 } })), {
      checkpoint_writes: 4,
      checkpoints: 4,
      audit: 1,
      transcripts: 5,
      job_logs: 2,
    });
    const { rows } = await db.pool.query(
      `SELECT thread_id, checkpoint_id, (SELECT count(*)::int FROM graph_writes w WHERE w.thread_id = c.thread_id AND w.checkpoint_id = c.checkpoint_id) AS writes FROM graph_checkpoints c ORDER BY thread_id`,
    );
    assert.deepEqual(rows, [
      { thread_id: 'local:a', checkpoint_id: '1ef-03', writes: 1 },
      { thread_id: 'local:b', checkpoint_id: '1ef-03', writes: 1 },
    ]);
    assert.deepEqual((await db.pool.query(`SELECT conversation FROM inbound_messages`)).rows, [{ conversation: 'slack:C2/2.0' }], 'the thread with work in flight keeps its transcript');
    assert.deepEqual(
      (await db.pool.query(`SELECT thread_id, seq FROM transcript_archive ORDER BY seq`)).rows,
      [
        { thread_id: 'slack:C2/2.0', seq: 0 },
        { thread_id: 'slack:C2/2.0', seq: 1 },
      ],
      'and its archived messages',
    );
    assert.deepEqual((await db.pool.query(`SELECT job_id FROM infra_job_logs`)).rows, [{ job_id: 'j-now' }]);
    assert.equal((await db.pool.query(`SELECT count(*)::int AS n FROM infra_jobs`)).rows[0].n, 2, "a job's record stays");
    assert.equal((await db.pool.query(`SELECT count(*)::int AS n FROM audit_log`)).rows[0].n, 1);
    await assert.rejects(db.pool.query(`DELETE FROM audit_log`), /audit_log is append-only: DELETE is not allowed/, 'the guard is back for every other statement');
    assert.deepEqual(counts(await pruneRecords(db.pool, { ...policy, auditDays: 'keep' }, { dryRun: true })), { checkpoint_writes: 0, checkpoints: 0, audit: 0, transcripts: 0, job_logs: 0 });
  });

  const turn = [
    new HumanMessage({ id: 'in-1', name: 'jeff', content: 'is the deploy log clean?' }),
    new AIMessage({ id: 'apollo:t1', name: 'apollo', content: '', tool_calls: [{ id: 'call-1', name: 'read_log', args: { service: 'web' }, type: 'tool_call' }] }),
    new ToolMessage({ id: 'tool-1', name: 'read_log', tool_call_id: 'call-1', content: 'line 1 ok\u0000\nline 2 ok' }),
    new AIMessage({ id: 'apollo:t2', name: 'apollo', content: 'The log is clean.' }),
  ];

  test("messages kept once at their places; saving again (a re-run step) keeps the re-run's", async () => {
    const archive = pgTranscriptArchive(db.pool);
    // A first attempt whose checkpoint was never saved (durability async), then the re-run.
    await archive.save('discord:G1:C9', 0, [turn[0]!, turn[1]!, turn[2]!, new AIMessage({ id: 'apollo:t2', name: 'apollo', content: 'An answer nobody saw.' })]);
    await archive.save('discord:G1:C9', 0, turn);
    await archive.save('discord:G1:C9', 4, [new HumanMessage({ id: 'in-2', content: 'thanks' })]);
    const { rows } = await db.pool.query<{ seq: number; message: Record<string, unknown>; tool_call_id: string | null }>(
      `SELECT seq, message, tool_call_id FROM transcript_archive WHERE thread_id = 'discord:G1:C9' ORDER BY seq`,
    );
    assert.deepEqual(
      rows.map((r) => [r.seq, r.message.type, r.message.name ?? null, r.message.content, r.tool_call_id]),
      [
        [0, 'human', 'jeff', 'is the deploy log clean?', null],
        [1, 'ai', 'apollo', '', null],
        [2, 'tool', 'read_log', 'line 1 ok\nline 2 ok', 'call-1'],
        [3, 'ai', 'apollo', 'The log is clean.', null],
        [4, 'human', null, 'thanks', null],
      ],
    );
    assert.deepEqual(rows[1]!.message.tool_calls, [{ id: 'call-1', name: 'read_log', args: { service: 'web' } }], 'the call is kept with its arguments');
  });

  test("the console finds an archived tool call's result, then the checkpoint's", async () => {
    const inState = [new ToolMessage({ id: 'tool-2', name: 'read_log', tool_call_id: 'call-2', content: 'still clean' })];
    const read = async (thread: string, callIds: readonly string[]) => [...(await archivedToolResults(db.pool, thread, callIds)), ...inState];
    const results = await resultsFromTranscript(read)('discord:G1:C9', ['call-1', 'call-2']);
    assert.deepEqual(
      [...results],
      [
        ['call-1', 'line 1 ok\nline 2 ok'],
        ['call-2', 'still clean'],
      ],
    );
    assert.deepEqual(await archivedToolResults(db.pool, 'discord:G1:C9', ['call-9']), [], 'only the calls asked for');
    assert.deepEqual(await archivedToolResults(db.pool, 'slack:other', ['call-1']), [], "only the thread's");
    assert.deepEqual(await archivedToolResults(db.pool, 'discord:G1:C9', ['call-1'], 6), [{ tool_call_id: 'call-1', content: 'line 1… (13 more characters)' }], 'cut to what a page shows');
  });

  test('the retention pass has no lease table of its own (core/leases holds it)', async () => {
    const { rows } = await db.pool.query(`SELECT to_regclass('maintenance_leases') AS t`);
    assert.equal(rows[0].t, null);
  });
});
