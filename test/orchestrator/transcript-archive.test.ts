/**
 * The transcript archive (orchestrator/graph/trim.ts) on the embedded database: messages that
 * leave a thread's checkpoint are kept once each at their place in the thread (a step re-run after
 * a crash saves the same again, harmlessly), text Postgres would refuse is made storable, and the
 * console still finds an archived tool call's result (web/timeline.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AIMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { createLogger } from '../../core/log.js';
import { archivedToolResults, pgTranscriptArchive } from '../../orchestrator/graph/trim.js';
import { resultsFromTranscript } from '../../web/timeline.js';

const logger = createLogger({ level: 'silent' });

describe('the transcript archive', () => {
  let dir: string;
  let db: Database;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pantheon-archive-'));
    db = await createDatabase({ dataDir: dir, logger });
    await migrate(db.pool, { logger });
  });
  after(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const turn = [
    new HumanMessage({ id: 'in-1', name: 'jeff', content: 'is the deploy log clean?' }),
    new AIMessage({ id: 'apollo:t1', name: 'apollo', content: '', tool_calls: [{ id: 'call-1', name: 'read_log', args: { service: 'web' }, type: 'tool_call' }] }),
    new ToolMessage({ id: 'tool-1', name: 'read_log', tool_call_id: 'call-1', content: 'line 1 ok\u0000\nline 2 ok' }),
    new AIMessage({ id: 'apollo:t2', name: 'apollo', content: 'The log is clean.' }),
  ];

  test('messages kept once at their places; saving again (a re-run step) changes nothing', async () => {
    const archive = pgTranscriptArchive(db.pool);
    await archive.save('slack:C1/1.0', 0, turn);
    await archive.save('slack:C1/1.0', 0, turn);
    await archive.save('slack:C1/1.0', 4, [new HumanMessage({ id: 'in-2', content: 'thanks' })]);
    const { rows } = await db.pool.query<{ seq: number; message: Record<string, unknown>; tool_call_id: string | null }>(
      `SELECT seq, message, tool_call_id FROM transcript_archive WHERE thread_id = 'slack:C1/1.0' ORDER BY seq`,
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
    const archived = await archivedToolResults(db.pool, 'slack:C1/1.0');
    const inState = [new ToolMessage({ id: 'tool-2', name: 'read_log', tool_call_id: 'call-2', content: 'still clean' })];
    const results = await resultsFromTranscript(async () => [...archived, ...inState])('slack:C1/1.0');
    assert.deepEqual(
      [...results],
      [
        ['call-1', 'line 1 ok\nline 2 ok'],
        ['call-2', 'still clean'],
      ],
    );
    assert.deepEqual(await archivedToolResults(db.pool, 'slack:other'), []);
  });
});
