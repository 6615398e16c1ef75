import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPersonaModel } from '../../agents/index.js';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { createLogger } from '../../core/log.js';
import { LexicalEmbedder, MemoryStore } from '../../memory/index.js';
import { recallForRun } from '../../memory/recall-context.js';
import type { LogFn } from 'pino';
import { IdleConversationWatcher, summarizeConversation } from '../../memory/summaries.js';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { tempDir } from '../support/pantheon-process.js';

const logger = createLogger({ level: 'silent' });

const RATE_SUMMARY = 'Decisions:\n- Rate limiting uses a Redis token bucket, 100 requests per minute (jeff).\nOpen questions:\n- Who reviews the PR?\nLinks:\n- gh:acme/api#12';

describe('conversation summaries', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let db: Database;
  let store: MemoryStore;
  let fake: FakeLLM;
  let model: ReturnType<typeof createPersonaModel>;

  /** Inserts local-chat messages `minutesAgo` old, in order. */
  const say = async (conversation: string, minutesAgo: number, ...lines: [id: string, author: string, text: string][]) => {
    for (const [id, author, text] of lines) {
      const agent = ['athena', 'apollo', 'hermes'].includes(author);
      await db.pool.query(`INSERT INTO chat_messages (id, conversation, role, author, persona, text, created_at) VALUES ($1, $2, $3, $4, $5, $6, now() - make_interval(mins => $7::int))`, [
        id,
        conversation,
        agent ? 'agent' : 'user',
        author,
        agent ? author : null,
        text,
        minutesAgo,
      ]);
    }
  };
  const summaries = async () => store.list({ kinds: ['summary'] });

  before(async () => {
    dir = await tempDir('pantheon-summaries-');
    db = await createDatabase({ dataDir: dir.path, logger });
    await migrate(db.pool, { logger });
    store = new MemoryStore(db.pool, new LexicalEmbedder());
    fake = await startFakeLLM();
    model = createPersonaModel({
      persona: { id: 'pantheon' },
      models: { default: 'openai:gpt-4.1-mini', maxRetries: 0 },
      env: { OPENAI_API_KEY: 'sk-test-openai', OPENAI_BASE_URL: fake.openaiBaseUrl },
    });
  });
  after(async () => {
    await fake?.close();
    await db?.close();
    await dir?.remove();
  });
  beforeEach(() => fake.clear());

  it('asks the model for decisions, facts, open questions and links, and stores the answer once', async () => {
    const messages = [
      { id: 'm1', role: 'user', author: 'jeff', text: '@athena we need rate limiting on the API' },
      { id: 'm2', role: 'agent', author: 'athena', text: 'Token bucket in Redis, 100 requests per minute? Filed gh:acme/api#12.' },
      { id: 'm3', role: 'user', author: 'jeff', text: 'yes, do it' },
    ];
    fake.enqueue({ text: RATE_SUMMARY });
    const memory = await summarizeConversation({ store, model, threadId: 'local:planning', messages, workItem: { id: 'W-3', title: 'Add rate limiting' } });
    assert.ok(memory);
    assert.equal(memory.kind, 'summary');
    assert.equal(memory.scope, 'team');
    assert.equal(memory.source, 'local:planning');
    assert.equal(memory.content, `Summary of local:planning (W-3: Add rate limiting)\n${RATE_SUMMARY}`);
    assert.deepEqual(memory.metadata, { summaryOf: 'local:planning', lastMessageId: 'm3', messageCount: 3, workItem: 'W-3' });

    const [req] = fake.requests;
    assert.match(req!.messages[0]!.content, /Decisions:[\s\S]*Facts:[\s\S]*Open questions:[\s\S]*Links:/);
    assert.equal(
      req!.messages[1]!.content,
      'Conversation local:planning\nWork item W-3: Add rate limiting\n\n[jeff] @athena we need rate limiting on the API\n[athena] Token bucket in Redis, 100 requests per minute? Filed gh:acme/api#12.\n[jeff] yes, do it',
    );

    fake.enqueue({ text: 'a different wording' });
    const again = await summarizeConversation({ store, model, threadId: 'local:planning', messages });
    assert.equal(again?.id, memory.id, 'the same stretch is stored once');
    assert.equal((await summaries()).length, 1);
  });

  it('stores nothing when the model finds nothing worth remembering', async () => {
    fake.enqueue({ text: 'NOTHING' });
    const memory = await summarizeConversation({
      store,
      model,
      threadId: 'local:smalltalk',
      messages: [
        { id: 's1', role: 'user', author: 'jeff', text: 'morning!' },
        { id: 's2', role: 'agent', author: 'athena', text: 'Good morning!' },
      ],
    });
    assert.equal(memory, null);
    assert.equal((await summaries()).length, 1);
  });

  it('a summary is recalled in a later, related conversation', async () => {
    const { block } = await recallForRun(store, { persona: 'hermes', threadId: 'local:api-work', text: '@hermes what did we decide about rate limiting on the API?' });
    assert.match(block, /\(summary, team, from local:planning, by system, just now\) Summary of local:planning \(W-3: Add rate limiting\) Decisions: - Rate limiting uses a Redis token bucket/);
  });

  it('the idle watcher summarises quiet conversations once, then only what is new', async () => {
    await say('idle-one', 90, ['i1', 'jeff', 'the staging database moves to db-2 next week'], ['i2', 'apollo', 'noted, I will update the connection strings']);
    await say('busy', 1, ['b1', 'jeff', 'are we still on for the release?'], ['b2', 'athena', 'yes, at 15:00']);
    await say('lonely', 120, ['l1', 'jeff', 'ping']);
    const watcher = new IdleConversationWatcher({ pool: db.pool, store, model, idleMinutes: 30 });

    fake.enqueue({ text: 'Facts:\n- The staging database moves to db-2 next week.' });
    assert.equal(await watcher.tick(), 1);
    assert.equal(fake.requests.length, 1, 'busy is not idle yet; one message is not worth a summary');
    assert.equal(fake.requests[0]!.messages[1]!.content, 'Conversation local:idle-one\n\n[jeff] the staging database moves to db-2 next week\n[apollo] noted, I will update the connection strings');
    const first = (await summaries()).find((m) => m.source === 'local:idle-one');
    assert.ok(first);
    assert.deepEqual(first.metadata, { lastSeq: first.metadata.lastSeq, summaryOf: 'local:idle-one', lastMessageId: 'i2', messageCount: 2 });

    assert.equal(await watcher.tick(), 0);
    assert.equal(fake.requests.length, 1, 'nothing new: the model is not asked again');
    // A new process (no in-memory state) finds the summary in the memories table.
    assert.equal(await new IdleConversationWatcher({ pool: db.pool, store, model, idleMinutes: 30 }).tick(), 0);
    assert.equal(fake.requests.length, 1);

    await say('idle-one', 45, ['i3', 'jeff', 'correction: db-3, not db-2'], ['i4', 'apollo', 'ok, db-3 it is']);
    fake.enqueue({ status: 500, error: 'upstream exploded' });
    assert.equal(await watcher.tick(), 0, 'a model failure writes nothing');
    fake.enqueue({ text: 'Facts:\n- The staging database moves to db-3 (corrected from db-2).' });
    assert.equal(await watcher.tick(), 1, 'and is retried on the next tick');
    assert.equal(fake.requests.at(-1)!.messages[1]!.content, 'Conversation local:idle-one\n\n[jeff] correction: db-3, not db-2\n[apollo] ok, db-3 it is');
    const idle = (await summaries()).filter((m) => m.source === 'local:idle-one');
    assert.equal(idle.length, 2);
    assert.equal(idle[0]!.metadata.lastMessageId, 'i4');
  });

  it('a summary over budget is not asked for: the watcher waits and summarises once the budget is back', async () => {
    await say('budgeted', 90, ['g1', 'jeff', 'the release train leaves on Tuesdays'], ['g2', 'athena', 'noted: Tuesdays']);
    let spent: string | null = "The team has used today's budget: 1,100 of 1,000 tokens, so Pantheon stops here.";
    const told: string[] = [];
    const watcher = new IdleConversationWatcher({
      pool: db.pool,
      store,
      model,
      idleMinutes: 30,
      budgetSpent: async () => spent,
      logger: { info: ((_o: unknown, msg: string) => void told.push(msg)) as LogFn, warn: () => {} },
    });
    assert.equal(await watcher.tick(), 0);
    assert.equal(fake.requests.length, 0, 'no model call over budget');
    assert.deepEqual(told, ["conversation summaries wait: The team has used today's budget: 1,100 of 1,000 tokens, so Pantheon stops here."]);
    spent = null;
    fake.enqueue({ text: 'Facts:\n- The release train leaves on Tuesdays.' });
    assert.ok((await watcher.tick()) >= 1, 'summarised once the budget allows');
    assert.ok(fake.requests.some((r) => r.messages[1]!.content.startsWith('Conversation local:budgeted')));
  });

  it('a quiet thread on another platform (Slack, Mattermost, ...) is summarised too: what people said and what the team posted', async () => {
    const thread = 'slack:T1:C0DEV:1712.5';
    const inbound = (id: string, minutesAgo: number, text: string, status = 'done') =>
      db.pool.query(
        `INSERT INTO inbound_messages (id, platform, conversation, author, text, payload, status, received_at) VALUES ($1, 'slack', $2, 'U0JEFF', $3, $4, $5, now() - make_interval(mins => $6::int))`,
        [id, thread, text, JSON.stringify({ author: { id: 'U0JEFF', name: 'jeff' } }), status, minutesAgo],
      );
    const posted = (key: string, minutesAgo: number, text: string, extra: Record<string, unknown> = {}) =>
      db.pool.query(
        `INSERT INTO outbox (idempotency_key, platform, conversation, persona, payload, status, created_at) VALUES ($1, 'slack', $2, 'apollo', $3, 'sent', now() - make_interval(mins => $4::int))`,
        [key, thread, JSON.stringify({ role: 'agent', persona: 'apollo', text, ...extra }), minutesAgo],
      );
    await inbound('s-in-1', 60, 'the payments webhook secret rotates on Fridays');
    await posted('s-out-1', 59, 'noted: rotation is every Friday at 10:00');
    await posted('s-out-2', 58, 'still working…', { replaces: 's-out-1' });
    await inbound('s-in-2', 57, 'and this one never got answered', 'failed');
    const watcher = new IdleConversationWatcher({ pool: db.pool, store, model, idleMinutes: 30 });
    fake.clear();
    fake.enqueue({ text: 'Facts:\n- The payments webhook secret rotates every Friday at 10:00.' });
    assert.equal(await watcher.tick(), 1);
    assert.equal(fake.requests[0]!.messages[1]!.content, `Conversation ${thread}\n\n[jeff] the payments webhook secret rotates on Fridays\n[apollo] noted: rotation is every Friday at 10:00`);
    const summary = (await summaries()).find((m) => m.source === thread);
    assert.ok(summary);
    assert.equal(summary.scope, 'team');
    assert.equal(typeof summary.metadata.lastPos, 'number');
    assert.equal(await watcher.tick(), 0, 'once');
    assert.equal(await new IdleConversationWatcher({ pool: db.pool, store, model, idleMinutes: 30 }).tick(), 0, 'and not again by another process');
    assert.equal(fake.requests.length, 1);
  });
});
