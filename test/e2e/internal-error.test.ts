/**
 * An unexpected failure is told to the chat by a reference, never by its text (issue 15): the real
 * process on a real Postgres whose tables the test breaks from outside, as a failing disk, a
 * botched manual migration or a DBA's constraint would. A turn whose checkpoint cannot be written
 * and a chat command whose table is gone each answer "… because of an internal error (reference
 * err-…)"; the server log carries the same reference with the database's own words, which the chat
 * never sees. Mended, the thread answers again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { createTestDatabase, postgresSkip } from '../support/postgres.js';
import { getMessages, modelEnv, postMessage, startPantheonProcess, tempDir, waitForMessage, type ApiMessage, type RunningPantheon } from '../support/pantheon-process.js';

const TOKEN = 'internal-error-console-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const REFERENCE = /because of an internal error \(reference (err-[0-9a-f]{8}); the server log has the details\)\.$/;
/** What a database says when it refuses something. */
const DATABASE_TEXT = /violates|constraint|relation "|graph_writes|graph_checkpoints|work_items|does not exist|ERROR:/i;

/** The log line that carries a reference: pino's JSON, one object a line. */
function logLineFor(app: RunningPantheon, ref: string): { msg: string; err?: { message?: string } } {
  const line = app
    .stdout()
    .split('\n')
    .find((l) => l.includes(ref));
  assert.ok(line, `no log line carries ${ref}; stdout ends: ${app.stdout().slice(-1500)}`);
  return JSON.parse(line);
}

function assertNoDatabaseText(messages: ApiMessage[]) {
  for (const m of messages) assert.doesNotMatch(m.text, DATABASE_TEXT, `database text in the chat: ${JSON.stringify(m)}`);
}

describe('an internal error is told by its reference', { skip: postgresSkip }, () => {
  let fake: FakeLLM;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let admin: pg.Client;
  before(async () => {
    fake = await startFakeLLM();
    db = await createTestDatabase('internal_error');
    admin = new pg.Client(db.url);
    await admin.connect();
  });
  after(async () => {
    await admin?.end();
    await db?.drop();
    await fake?.close();
  });

  it('a turn that cannot save its checkpoint, and a command whose table is gone, answer with a reference the log explains', async () => {
    const dir = await tempDir();
    const app = await startPantheonProcess({ env: modelEnv(fake, { PANTHEON_CONSOLE_TOKEN: TOKEN, DATABASE_URL: db.url }), dataDir: dir.path });
    try {
      fake.enqueue({ text: 'First answer.' });
      assert.equal((await postMessage(app.url, 'broken', { text: '@apollo hello', user: 'alice' }, AUTH)).status, 202);
      await waitForMessage(app.url, 'broken', (m) => m.text === 'First answer.', 30_000, AUTH);

      // Every checkpoint write is refused from now on: the graph's run fails wherever it is.
      await admin.query('ALTER TABLE graph_checkpoints ADD CONSTRAINT no_more_checkpoints CHECK (false) NOT VALID');
      fake.enqueue({ text: 'Never posted.' });
      assert.equal((await postMessage(app.url, 'broken', { text: '@apollo again', user: 'alice' }, AUTH)).status, 202);
      const failed = await waitForMessage(app.url, 'broken', (m) => m.text.startsWith('The team could not answer'), 30_000, AUTH);
      assert.equal(failed.role, 'system');
      const runRef = failed.text.match(REFERENCE)?.[1];
      assert.ok(runRef, `no reference in ${JSON.stringify(failed.text)}`);
      const runLog = logLineFor(app, runRef);
      assert.equal(runLog.msg, 'team run failed');
      assert.match(runLog.err?.message ?? '', /no_more_checkpoints/, 'the log has what the database said');

      // A chat command whose table has gone: the command fails, the chat gets a reference.
      await admin.query('ALTER TABLE graph_checkpoints DROP CONSTRAINT no_more_checkpoints');
      await admin.query('ALTER TABLE work_items RENAME TO work_items_moved');
      assert.equal((await postMessage(app.url, 'broken', { text: '/status', user: 'alice' }, AUTH)).status, 202);
      const statusFailed = await waitForMessage(app.url, 'broken', (m) => m.text.startsWith('/status failed'), 30_000, AUTH);
      const commandRef = statusFailed.text.match(REFERENCE)?.[1];
      assert.ok(commandRef && commandRef !== runRef, `no fresh reference in ${JSON.stringify(statusFailed.text)}`);
      const commandLog = logLineFor(app, commandRef);
      assert.equal(commandLog.msg, 'chat command failed');
      assert.match(commandLog.err?.message ?? '', /work_items/);

      // Mended: the thread answers again, and nothing of the database's words was ever posted.
      await admin.query('ALTER TABLE work_items_moved RENAME TO work_items');
      fake.enqueue({ text: 'Back again.' });
      assert.equal((await postMessage(app.url, 'broken', { text: '@apollo still there?', user: 'alice' }, AUTH)).status, 202);
      await waitForMessage(app.url, 'broken', (m) => m.text === 'Back again.', 30_000, AUTH);
      const messages = await getMessages(app.url, 'broken', AUTH);
      assertNoDatabaseText(messages);
      assert.equal(messages.filter((m) => m.text.startsWith('The team could not answer')).length, 1, 'the failure is told once');
    } finally {
      await app.stop();
      await dir.remove();
    }
  });
});
