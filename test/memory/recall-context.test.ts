import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAgent, tool } from 'langchain';
import { MemorySaver } from '@langchain/langgraph';
import { z } from 'zod';
import { createPersonaModel } from '../../agents/index.js';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { createLogger } from '../../core/log.js';
import { LexicalEmbedder, MemoryStore } from '../../memory/index.js';
import { memoryMiddleware, recallForRun } from '../../memory/recall-context.js';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { tempDir } from '../support/pantheon-process.js';

const logger = createLogger({ level: 'silent' });

describe("recall into a run's context", () => {
  let dir: { path: string; remove: () => Promise<void> };
  let db: Database;
  let store: MemoryStore;
  let fake: FakeLLM;
  const ids: Record<string, string> = {};

  before(async () => {
    dir = await tempDir('pantheon-recall-context-');
    db = await createDatabase({ dataDir: dir.path, logger });
    await migrate(db.pool, { logger });
    store = new MemoryStore(db.pool, new LexicalEmbedder());
    fake = await startFakeLLM();
    const put = async (key: string, m: Parameters<MemoryStore['remember']>[0]) => (ids[key] = (await store.remember(m)).id);
    await put('rate', { scope: 'team', kind: 'decision', content: 'Rate limiting uses a Redis token bucket, 100 requests per minute per API token.', source: 'local:planning', author: 'athena' });
    await put('deploy', {
      scope: 'team',
      kind: 'runbook',
      content: 'Deploys to staging go through the deploy-staging workflow; never ssh in to deploy.',
      source: 'gh:acme/api#40',
      author: 'hephaestus',
    });
    await put('apolloPrivate', { scope: 'persona:apollo', kind: 'preference', content: 'Apollo prefers small pull requests for rate limiting work.', source: 'local:dm-apollo', author: 'apollo' });
    await put('otherThread', { scope: 'conversation:local:secret', kind: 'fact', content: 'The rate limiting launch date is embargoed until March.', source: 'local:secret', author: 'jeff' });
    for (let i = 0; i < 6; i++) {
      await put(`long${i}`, {
        scope: 'team',
        kind: 'fact',
        content: `Rate limiting note ${i}: ${'the bucket refills continuously and bursts are capped at twenty requests. '.repeat(6)}`,
        source: `local:notes-${i}`,
      });
    }
  });
  after(async () => {
    await fake?.close();
    await db?.close();
    await dir?.remove();
  });
  beforeEach(() => fake.clear());

  it('recalls what bears on the message, with sources, for what the persona may see', async () => {
    const { block, hits } = await recallForRun(store, { persona: 'hermes', threadId: 'local:dev', text: '@hermes please add rate limiting to the API', tokenBudget: 2000 });
    const shown = hits.map((h) => h.memory.id);
    assert.ok(shown.includes(ids.rate), 'the decision about rate limiting');
    assert.ok(!shown.includes(ids.apolloPrivate), "not apollo's private memory");
    assert.ok(!shown.includes(ids.otherThread), "not another conversation's memory");
    assert.ok(!shown.includes(ids.deploy), 'not an unrelated runbook');
    assert.match(block, /^## From the team's memory\n/);
    assert.match(
      block,
      new RegExp(`^- \\[${ids.rate}\\] \\(decision, team, from local:planning, by athena, just now\\) Rate limiting uses a Redis token bucket, 100 requests per minute per API token\\.$`, 'm'),
    );
    assert.equal(block.split('\n').filter((l) => l.startsWith('- [')).length, hits.length);
  });

  it("sees its own private memory and its conversation's", async () => {
    const apollo = await recallForRun(store, { persona: 'apollo', threadId: 'local:secret', text: 'what does Apollo prefer, and is the launch embargoed?', tokenBudget: 4000 });
    const shown = apollo.hits.map((h) => h.memory.id);
    assert.ok(shown.includes(ids.apolloPrivate));
    assert.ok(shown.includes(ids.otherThread));
    assert.match(apollo.block, /\(preference, private, from local:dm-apollo, by apollo, just now\)/);
    assert.match(apollo.block, /\(fact, this conversation, from local:secret, by jeff, just now\)/);
  });

  it('stays within the token budget (characters / 4)', async () => {
    for (const budget of [120, 200, 400]) {
      const { block, hits } = await recallForRun(store, { persona: 'hermes', threadId: 'local:dev', text: 'rate limiting bucket', tokenBudget: budget });
      assert.ok(block.length <= budget * 4, `${block.length} chars for a budget of ${budget} tokens`);
      assert.ok(hits.length >= 1, `something fits in ${budget} tokens`);
    }
    const small = await recallForRun(store, { persona: 'hermes', threadId: 'local:dev', text: 'rate limiting bucket', tokenBudget: 120 });
    const large = await recallForRun(store, { persona: 'hermes', threadId: 'local:dev', text: 'rate limiting bucket', tokenBudget: 2000 });
    assert.ok(large.hits.length > small.hits.length);
    // A budget that holds the heading and about half of the first memory: that memory is cut, visibly.
    const [heading1, heading2, first] = large.block.split('\n');
    const prefix = first!.indexOf(') ') + 2;
    const tight = Math.floor((heading1!.length + heading2!.length + 2 + prefix + 60) / 4);
    const cut = await recallForRun(store, { persona: 'hermes', threadId: 'local:dev', text: 'rate limiting bucket', tokenBudget: tight });
    assert.match(cut.block, /…$/, 'a memory that does not fit whole is cut, visibly');
  });

  it('injects nothing when nothing is relevant', async () => {
    assert.deepEqual(await recallForRun(store, { persona: 'hermes', threadId: 'local:dev', text: 'good morning, how are you?' }), { block: '', hits: [] });
    assert.deepEqual(await recallForRun(store, { persona: 'hermes', threadId: 'local:dev', text: 'what should we cook for the party' }), { block: '', hits: [] });
    assert.deepEqual(await recallForRun(store, { persona: 'hermes', threadId: 'local:dev', text: '   ' }), { block: '', hits: [] });
  });

  it('the middleware adds the block to the system message, recalling once per turn', async () => {
    const model = createPersonaModel({ persona: { id: 'hermes', model: 'openai:gpt-4.1-mini' }, models: {}, env: { OPENAI_API_KEY: 'sk-test-openai', OPENAI_BASE_URL: fake.openaiBaseUrl } });
    const lookup = tool(async () => 'the gateway is nginx', { name: 'lookup', description: 'Looks something up', schema: z.object({ what: z.string() }) });
    const agent = createAgent({ model, tools: [lookup], systemPrompt: 'You are Hermes.', checkpointer: new MemorySaver(), middleware: [memoryMiddleware(store, 'hermes')] });
    const usesBefore = (await store.get(ids.deploy))!.accessCount;

    fake.enqueue({ toolCalls: [{ name: 'lookup', args: { what: 'gateway' } }] }, { text: 'Done: deploy through the workflow.' });
    await agent.invoke({ messages: [{ role: 'user', content: 'how do I deploy to staging?', id: 'msg-1' }] }, { configurable: { thread_id: 'local:ops' } });
    assert.equal(fake.requests.length, 2);
    for (const req of fake.requests) {
      const system = req.messages[0]!;
      assert.equal(system.role, 'system');
      assert.match(system.content, /^You are Hermes\.\n\n## From the team's memory\n/);
      assert.match(system.content, new RegExp(`- \\[${ids.deploy}\\] \\(runbook, team, from gh:acme/api#40, by hephaestus, just now\\) Deploys to staging`));
    }
    assert.equal((await store.get(ids.deploy))!.accessCount, usesBefore + 1, 'one recall for both model calls of the turn');

    // A message with nothing to recall leaves the system prompt alone.
    fake.enqueue({ text: 'Hi!' });
    await agent.invoke({ messages: [{ role: 'user', content: 'good morning', id: 'msg-2' }] }, { configurable: { thread_id: 'local:ops' } });
    assert.equal(fake.requests[2]!.messages[0]!.content, 'You are Hermes.');
  });

  it('the middleware answers without memories when recall fails', async () => {
    const switched = new MemoryStore(db.pool, new LexicalEmbedder({ dimension: 64 }));
    const warnings: unknown[] = [];
    const model = createPersonaModel({ persona: { id: 'hermes', model: 'openai:gpt-4.1-mini' }, models: {}, env: { OPENAI_API_KEY: 'sk-test-openai', OPENAI_BASE_URL: fake.openaiBaseUrl } });
    const agent = createAgent({ model, tools: [], systemPrompt: 'You are Hermes.', middleware: [memoryMiddleware(switched, 'hermes', { logger: { warn: (o: unknown) => void warnings.push(o) } })] });
    fake.enqueue({ text: 'ok' });
    const result = await agent.invoke({ messages: [{ role: 'user', content: 'rate limiting?' }] }, { configurable: { thread_id: 'local:x' } });
    assert.equal(result.messages.at(-1)!.content, 'ok');
    assert.equal(fake.requests[0]!.messages[0]!.content, 'You are Hermes.');
    assert.equal(warnings.length, 1);
  });
});
