/**
 * Every accepted message is answered or refused, never stranded (issue 13, part 5), over real
 * HTTP against the real process and the scripted model server: text with a lone surrogate or a
 * NUL is normalised and answered (text that is nothing but NUL is a 400 in our error format), a
 * model answer with a NUL is posted normalised exactly once and the question is not answered
 * again, a failed run tells the chat a reference, not the error's text, and a message recorded
 * by a process that died before queueing it is answered after the restart.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDatabase } from '../../core/db/index.js';
import { createLogger } from '../../core/log.js';
import { storableText } from '../../core/db/storable-text.js';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { getMessages, modelEnv, postMessage, startPantheonProcess, tempDir, waitForMessage, type ApiMessage } from '../support/pantheon-process.js';

const TOKEN = 'integrity-console-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** What a database says when it refuses something, or an error's text posted as is. */
const DATABASE_TEXT = /invalid byte sequence|unsupported Unicode|\\u0000|violates|syntax error|relation "|duplicate key|PGlite|ERROR:/i;

function assertNoInternalText(messages: ApiMessage[]) {
  for (const m of messages) {
    assert.doesNotMatch(m.text, DATABASE_TEXT, `internal error text in the chat: ${JSON.stringify(m)}`);
    assert.ok(!m.text.includes('\u0000'), `NUL in the chat: ${JSON.stringify(m)}`);
    assert.equal(storableText(m.text), m.text, `NUL or a lone surrogate in the chat: ${JSON.stringify(m)}`);
  }
}

describe('every accepted message is answered or refused, never stranded', () => {
  let fake: FakeLLM;
  before(async () => {
    fake = await startFakeLLM();
  });
  after(async () => {
    await fake.close();
  });
  const env = () => modelEnv(fake, { PANTHEON_CONSOLE_TOKEN: TOKEN });

  it('lone surrogates and NUL are normalised and answered; only-NUL text is a 400; a model answer with NUL is posted once, normalised, and not answered again', async () => {
    const dir = await tempDir();
    fake.clear();
    const app = await startPantheonProcess({ env: env(), dataDir: dir.path });
    try {
      // A lone surrogate: JSON.stringify writes it as \ud800, JSON.parse gives it back unpaired.
      fake.enqueue({ text: 'Got your surrogate.' });
      const lone = await postMessage(app.url, 'odd', { text: '@athena half a pair: \uD800 here', user: 'alice' }, AUTH);
      assert.equal(lone.status, 202, await lone.clone().text());
      await waitForMessage(app.url, 'odd', (m) => m.text === 'Got your surrogate.', 15_000, AUTH);
      assert.match(fake.requests.at(-1)!.messages.at(-1)!.content, /half a pair: \uFFFD here/);

      // NUL inside text: removed, answered.
      fake.enqueue({ text: 'Got your NUL.' });
      const nul = await postMessage(app.url, 'odd', { text: '@athena nul\u0000 inside', user: 'alice' }, AUTH);
      assert.equal(nul.status, 202, await nul.clone().text());
      await waitForMessage(app.url, 'odd', (m) => m.text === 'Got your NUL.', 15_000, AUTH);
      assert.match(fake.requests.at(-1)!.messages.at(-1)!.content, /nul inside/);

      // Nothing but NUL is empty once normalised: refused in our JSON error format.
      const empty = await postMessage(app.url, 'odd', { text: '\u0000\u0000', user: 'alice' }, AUTH);
      assert.equal(empty.status, 400);
      const body = (await empty.json()) as { error: { code: string; message: string; requestId: string } };
      assert.equal(body.error.code, 'bad_request');
      assert.match(body.error.message, /text must not be empty/);

      const users = (await getMessages(app.url, 'odd', AUTH)).filter((m) => m.role === 'user').map((m) => m.text);
      assert.deepEqual(users, ['@athena half a pair: \uFFFD here', '@athena nul inside']);

      // A model answer the database would refuse: posted once, normalised.
      const before = fake.requests.length;
      fake.enqueue({ text: 'The answer\u0000 is \uDC0042.' });
      await postMessage(app.url, 'answers', { text: '@athena what is the answer?', user: 'alice' }, AUTH);
      await waitForMessage(app.url, 'answers', (m) => m.role === 'agent', 15_000, AUTH);
      // The next question is answered once, and the first is not answered again.
      fake.enqueue({ text: 'Second answer.' });
      await postMessage(app.url, 'answers', { text: '@athena and the next one?', user: 'alice' }, AUTH);
      await waitForMessage(app.url, 'answers', (m) => m.text === 'Second answer.', 15_000, AUTH);
      await sleep(500);
      const answers = await getMessages(app.url, 'answers', AUTH);
      assert.deepEqual(
        answers.map((m) => `${m.role}: ${m.text}`),
        ['user: @athena what is the answer?', 'agent: The answer is \uFFFD42.', 'user: @athena and the next one?', 'agent: Second answer.'],
      );
      assert.equal(fake.requests.length - before, 2, 'one model call per question');
      const lastAsk = fake.requests
        .at(-1)!
        .messages.filter((m) => m.role === 'user')
        .map((m) => m.content);
      assert.match(lastAsk.at(-1)!, /and the next one/);

      assertNoInternalText([...(await getMessages(app.url, 'odd', AUTH)), ...answers]);
    } finally {
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });

  it('a model that fails tells the chat which model and how, never the error text; the log has the text', async () => {
    const dir = await tempDir();
    fake.clear();
    const app = await startPantheonProcess({ env: env(), dataDir: dir.path });
    try {
      fake.enqueue({ status: 400, error: 'relation "secret_internal_table" does not exist' });
      await postMessage(app.url, 'broken', { text: '@athena hello', user: 'alice' }, AUTH);
      const notice = await waitForMessage(app.url, 'broken', (m) => m.role === 'system', 20_000, AUTH);
      assert.match(notice.text, /^Athena could not answer: \S+ refused the request \(400\)\./);
      assert.ok(!notice.text.includes('secret_internal_table'));
      await sleep(200);
      const line = (app.stdout() + app.stderr()).split('\n').find((l) => l.includes('secret_internal_table'));
      assert.ok(line, 'the log has what the model server said');
      assertNoInternalText(await getMessages(app.url, 'broken', AUTH));
    } finally {
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });

  it('a message recorded by a process that died before queueing it is answered after the restart', async () => {
    const dir = await tempDir();
    fake.clear();
    try {
      // The first start creates and migrates the data dir.
      const first = await startPantheonProcess({ env: env(), dataDir: dir.path });
      await sleep(300); // its signal handlers are installed just after the ready line
      assert.equal(await first.stop(), 0);
      // What a process that died between recording and queueing leaves behind: the inbound row
      // (the durable record) and the chat's copy, and no job.
      const db = await createDatabase({ dataDir: dir.path, logger: createLogger({ level: 'silent' }) });
      const id = 'local:stranded:m1';
      const envelope = { id, platform: 'local', threadId: 'local:stranded', author: { id: 'alice', name: 'alice' }, text: '@athena are you still there?', receivedAt: new Date().toISOString() };
      await db.pool.query(`INSERT INTO inbound_messages (id, platform, conversation, author, text, payload) VALUES ($1, 'local', 'local:stranded', 'alice', $2, $3)`, [
        id,
        envelope.text,
        JSON.stringify(envelope),
      ]);
      await db.pool.query(`INSERT INTO chat_messages (id, conversation, role, author, text) VALUES ($1, 'stranded', 'user', 'alice', $2)`, [id, envelope.text]);
      await db.close();

      fake.enqueue({ text: 'Still here.' });
      const app = await startPantheonProcess({ env: env(), dataDir: dir.path });
      try {
        await waitForMessage(app.url, 'stranded', (m) => m.text === 'Still here.', 15_000, AUTH);
        const messages = await getMessages(app.url, 'stranded', AUTH);
        assert.deepEqual(
          messages.map((m) => m.text),
          ['@athena are you still there?', 'Still here.'],
        );
      } finally {
        assert.equal(await app.stop(), 0);
      }
    } finally {
      await dir.remove();
    }
  });
});
