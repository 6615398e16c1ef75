/**
 * The persona model inside a real `createAgent` loop: the model asks for a tool, the
 * agent runs it, the model answers with the result, over both wires.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createAgent, tool } from 'langchain';
import { MemorySaver } from '@langchain/langgraph';
import { z } from 'zod';
import { type FakeLLM } from '../fakes/llm/index.js';
import { useFakeLLM } from '../support/fake-llm.js';
import { createPersonaModel, MemoryUsageRecorder, withRun } from '../../agents/index.js';

let fake: FakeLLM;
useFakeLLM((f) => (fake = f));

const lookups: string[] = [];
const openIssues = tool(
  async ({ repo }) => {
    lookups.push(repo);
    return `${repo} has 3 open issues`;
  },
  { name: 'count_open_issues', description: 'Counts open issues in a repository', schema: z.object({ repo: z.string() }) },
);

for (const spec of ['anthropic:claude-sonnet-4-5', 'openai:gpt-4.1-mini']) {
  test(`${spec}: createAgent answers after a tool call round trip`, async () => {
    lookups.length = 0;
    const recorder = new MemoryUsageRecorder();
    const model = createPersonaModel({
      persona: { id: 'athena', model: spec },
      models: {},
      env: {
        OPENAI_API_KEY: 'sk-test-openai',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        ANTHROPIC_API_KEY: 'sk-ant-test',
        ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
      },
      recorder,
    });
    const agent = createAgent({ model, tools: [openIssues], systemPrompt: 'You are Athena, the PM.', checkpointer: new MemorySaver() });

    fake.enqueue(
      { toolCalls: [{ name: 'count_open_issues', args: { repo: 'acme/api' } }], usage: { input: 40, output: 12 } },
      { text: 'acme/api has 3 open issues.', usage: { input: 60, output: 8 } },
    );
    const result = await withRun({ runId: 'run-42', persona: 'athena' }, () =>
      agent.invoke({ messages: [{ role: 'user', content: 'how many open issues in acme/api?' }] }, { configurable: { thread_id: 't1' } }),
    );

    const last = result.messages.at(-1)!;
    assert.equal(last.content, 'acme/api has 3 open issues.');
    assert.deepEqual(lookups, ['acme/api']);
    assert.equal(fake.requests.length, 2);
    assert.deepEqual(fake.requests[0].tools, ['count_open_issues']);
    assert.equal(fake.requests[0].messages[0].role, 'system');
    const toolResult = fake.requests[1].messages.find((m) => m.role === 'tool');
    assert.equal(toolResult?.content, 'acme/api has 3 open issues');
    assert.equal(toolResult?.toolCallId, fake.requests[1].messages.find((m) => m.role === 'assistant')?.toolCalls?.[0].id);

    // Both model calls accounted to the run and persona from the run context.
    assert.deepEqual(
      recorder.records.map((r) => [r.runId, r.persona, r.inputTokens, r.outputTokens, r.ok]),
      [
        ['run-42', 'athena', 40, 12, true],
        ['run-42', 'athena', 60, 8, true],
      ],
    );
    // Messages keep distinct ids, so the reducer kept every turn.
    const ids = result.messages.map((m) => m.id);
    assert.equal(new Set(ids).size, ids.length);

    // The checkpointer remembers the thread: a follow-up sees the whole conversation.
    await agent.invoke({ messages: [{ role: 'user', content: 'thanks' }] }, { configurable: { thread_id: 't1' } });
    const followUp = fake.requests[2].messages.filter((m) => m.role === 'user').map((m) => m.content);
    assert.deepEqual(followUp, ['how many open issues in acme/api?', 'thanks']);
  });
}
