/**
 * Reasoning models with tools across turns: Anthropic extended thinking (signed thinking blocks must
 * go back with the tool results; the scripted model server refuses them missing or altered, as the
 * API does) and OpenAI reasoning effort; the thinking is never posted as the answer unless the
 * persona asks to show it. The real SDKs over HTTP, the real team graph.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { HumanMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { Command, MemorySaver } from '@langchain/langgraph';
import { z } from 'zod';
import { createPersonaModel, type ModelsConfig, type ReasoningConfig } from '../../agents/index.js';
import { buildTeamGraph, nodeName, type TeamGuards } from '../../orchestrator/graph/team-graph.js';
import type { FakeLLM } from '../fakes/llm/index.js';
import { fakeProviderEnv, useFakeLLM } from '../support/fake-llm.js';
import { RecordingOutbox } from '../tools/recording-outbox.js';

let fake: FakeLLM;
useFakeLLM((f) => (fake = f));

const guards: TeamGuards = { maxTurnsPerMessage: 5, maxHandoffsPerHour: 5, handoffsInLastHour: async () => 0, recordHandoff: async () => ({}), budgetSpent: async () => null };
const getWeather = tool(async ({ city }) => `Weather in ${city}: 18°C.`, { name: 'get_weather', description: 'weather', schema: z.object({ city: z.string() }) });

function team(spec: string, reasoning: ReasoningConfig, models: ModelsConfig = {}, given?: BaseChatModel, outbox = new RecordingOutbox()) {
  const model = given ?? createPersonaModel({ persona: { id: 'apollo', model: spec, reasoning }, models: { maxRetries: 0, ...models }, env: fakeProviderEnv(fake) });
  const graph = buildTeamGraph({
    members: [{ id: 'apollo', name: 'Apollo', model, tools: [getWeather], systemPrompt: 'You are Apollo.', middleware: [], showReasoning: reasoning.show }],
    checkpointer: new MemorySaver(),
    outbox,
    guards,
  });
  const threadId = `local:reasoning-${randomUUID().slice(0, 8)}`;
  const say = async (text: string) => {
    const id = `in-${randomUUID().slice(0, 8)}`;
    const turn = { inboundIds: [id], channel: 'local', threadId, requestedBy: 'jeff' };
    await graph.invoke(new Command({ goto: nodeName('apollo'), update: { messages: [new HumanMessage({ id, content: text })], start: 'apollo', queue: [], turns: 1, handoff: null, turn } }) as never, {
      configurable: { thread_id: threadId },
    });
  };
  return { outbox, say };
}

describe('reasoning models with tools across turns', () => {
  test('Anthropic extended thinking: thinking blocks go back signed with the tool results, across two turns; only the answer is posted', async () => {
    const t = team('anthropic:claude-sonnet-4-5', { budgetTokens: 2048 });
    fake.enqueue(
      { thinking: 'The human wants the weather; I should call get_weather.', toolCalls: [{ name: 'get_weather', args: { city: 'Paris' } }] },
      { thinking: 'It is 18°C.', text: 'It is 18°C in Paris.' },
    );
    await t.say('weather in Paris?');
    fake.enqueue({ thinking: 'Again, for Tokyo.', toolCalls: [{ name: 'get_weather', args: { city: 'Tokyo' } }] }, { thinking: 'Done.', text: 'Also 18°C in Tokyo.' });
    await t.say('and Tokyo?');

    assert.deepEqual(
      t.outbox.sent.map((m) => [m.role, m.text]),
      [
        ['agent', 'It is 18°C in Paris.'],
        ['agent', 'Also 18°C in Tokyo.'],
      ],
    );
    const requests = fake.requests.filter((r) => r.wire === 'anthropic');
    assert.equal(requests.length, 4, 'no request was refused and retried');
    const body = requests[0]!.body as { thinking?: { type: string; budget_tokens: number }; max_tokens: number };
    assert.deepEqual(body.thinking, { type: 'enabled', budget_tokens: 2048 });
    assert.ok(body.max_tokens > 2048);
    // The tool loop's assistant turn came back with its thinking, first, in both turns.
    assert.equal(requests[1]!.messages.at(-2)?.thinking, 'The human wants the weather; I should call get_weather.');
    assert.equal(requests[3]!.messages.at(-2)?.thinking, 'Again, for Tokyo.');
  });

  test('shown when the persona asks: the thinking is quoted before the answer', async () => {
    const t = team('anthropic:claude-sonnet-4-5', { budgetTokens: 1024, show: true });
    fake.enqueue({ thinking: 'Short and sweet.', text: 'Hello!' });
    await t.say('hi');
    assert.deepEqual(
      t.outbox.sent.map((m) => m.text),
      ['> Short and sweet.\n\nHello!'],
    );
  });

  test('the scripted server refuses a tool loop without its thinking block, or with a forged signature, as Anthropic does', async () => {
    const client = new Anthropic({ apiKey: 'sk-ant-test', baseURL: fake.anthropicBaseUrl, maxRetries: 0 });
    const base = {
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      thinking: { type: 'enabled' as const, budget_tokens: 2048 },
      tools: [{ name: 'get_weather', input_schema: { type: 'object' as const } }],
    };
    const result = { role: 'user' as const, content: [{ type: 'tool_result' as const, tool_use_id: 'toolu_1', content: '18°C' }] };
    const ask = { role: 'user' as const, content: 'weather?' };
    await assert.rejects(
      client.messages.create({ ...base, messages: [ask, { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }] }, result] }),
      /must start with a thinking block/,
    );
    await assert.rejects(
      client.messages.create({
        ...base,
        messages: [
          ask,
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'forged', signature: 'AAAA' },
              { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} },
            ],
          },
          result,
        ],
      }),
      /Invalid `signature`/,
    );
    await assert.rejects(client.messages.create({ ...base, max_tokens: 1024, messages: [ask] }), /max_tokens` must be greater/);
  });

  test('OpenAI reasoning models over the Responses API: reasoning items go back with the tool results, across two turns; only the answer is posted', async () => {
    const t = team('openai:o4-mini', { effort: 'low' });
    fake.enqueue({ thinking: 'I should call get_weather.', toolCalls: [{ name: 'get_weather', args: { city: 'Paris' } }] }, { thinking: 'It is 18°C.', text: 'It is 18°C in Paris.' });
    await t.say('weather in Paris?');
    fake.enqueue({ toolCalls: [{ name: 'get_weather', args: { city: 'Tokyo' } }] }, { text: 'Also 18°C in Tokyo.' });
    await t.say('and Tokyo?');

    assert.deepEqual(
      t.outbox.sent.map((m) => [m.role, m.text]),
      [
        ['agent', 'It is 18°C in Paris.'],
        ['agent', 'Also 18°C in Tokyo.'],
      ],
    );
    assert.deepEqual(
      fake.requests.map((r) => r.wire),
      ['responses', 'responses', 'responses', 'responses'],
      'no request was refused and retried, none went to Chat Completions',
    );
    const [first, second, , fourth] = fake.requests;
    const body = first!.body as { reasoning?: unknown; store?: boolean; include?: string[] };
    assert.deepEqual(body.reasoning, { effort: 'low' });
    assert.equal(body.store, false);
    assert.deepEqual(body.include, ['reasoning.encrypted_content']);
    // The assistant turn of each tool loop came back with its reasoning item, before its call.
    const loop = (r: typeof second) => r!.messages.filter((m) => m.role === 'assistant').at(-1)!;
    assert.equal(loop(second).reasoningItems?.length, 1);
    assert.deepEqual(
      loop(second).toolCalls?.map((c) => c.args),
      [{ city: 'Paris' }],
    );
    assert.equal(second!.messages.at(-1)?.content, 'Weather in Paris: 18°C.');
    assert.equal(loop(fourth).reasoningItems?.length, 1);
    assert.equal(fourth!.messages.at(-1)?.content, 'Weather in Tokyo: 18°C.');
  });

  test('a reasoning model that fails mid-loop falls back: the fallback (Chat Completions) gets the conversation without the reasoning items, and answers', async () => {
    const outbox = new RecordingOutbox();
    const model = createPersonaModel({
      persona: { id: 'apollo', model: 'openai:o4-mini', fallbackModels: ['openai:gpt-4.1-mini'], reasoning: { effort: 'low' } },
      models: { maxRetries: 0 },
      env: fakeProviderEnv(fake),
    });
    const t = team('openai:o4-mini', { effort: 'low' }, {}, model, outbox);
    fake.enqueue({ thinking: 'Call the tool.', toolCalls: [{ name: 'get_weather', args: { city: 'Oslo' } }] }, { status: 500, error: 'The server had an error' }, { text: 'It is 18°C in Oslo.' });
    await t.say('weather in Oslo?');
    assert.deepEqual(
      outbox.sent.map((m) => m.text),
      ['It is 18°C in Oslo.'],
    );
    assert.deepEqual(
      fake.requests.map((r) => r.wire),
      ['responses', 'responses', 'openai'],
    );
    assert.equal(fake.requests[2]!.messages.at(-1)?.content, 'Weather in Oslo: 18°C.');
    assert.deepEqual(
      fake.requests[2]!.messages.at(-2)?.toolCalls?.map((c) => c.args),
      [{ city: 'Oslo' }],
    );
  });

  test('OpenAI reasoning summaries are asked for and quoted only when the persona shows them', async () => {
    const t = team('openai:gpt-5-mini', { effort: 'minimal', show: true });
    fake.enqueue({ thinking: 'Short and sweet.', text: 'Hello!' });
    await t.say('hi');
    assert.deepEqual((fake.requests[0]!.body as { reasoning?: unknown }).reasoning, { effort: 'minimal', summary: 'auto' });
    assert.deepEqual(
      t.outbox.sent.map((m) => m.text),
      ['> Short and sweet.\n\nHello!'],
    );
  });

  test('the scripted server refuses a function call sent back without its reasoning item, or with one it cannot find, as OpenAI does', async () => {
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: fake.openaiBaseUrl, maxRetries: 0 });
    const tools = [{ type: 'function' as const, name: 'get_weather', parameters: { type: 'object' }, strict: false }];
    fake.enqueue({ toolCalls: [{ name: 'get_weather', args: {} }] });
    const first = await client.responses.create({ model: 'o4-mini', input: 'weather?', tools, store: false, include: ['reasoning.encrypted_content'] });
    const [reasoning, call] = first.output as [OpenAI.Responses.ResponseReasoningItem, OpenAI.Responses.ResponseFunctionToolCall];
    assert.equal(reasoning.type, 'reasoning');
    assert.ok(reasoning.encrypted_content);
    assert.equal(call.type, 'function_call');
    const result = { type: 'function_call_output' as const, call_id: call.call_id, output: '18°C' };
    const ask = { role: 'user' as const, content: 'weather?' };
    const fc = { type: 'function_call' as const, call_id: call.call_id, name: call.name, arguments: call.arguments };
    await assert.rejects(client.responses.create({ model: 'o4-mini', tools, store: false, input: [ask, fc, result] }), /of type 'function_call' was provided without its required 'reasoning' item/);
    await assert.rejects(
      client.responses.create({ model: 'o4-mini', tools, store: false, input: [ask, { type: 'reasoning', id: reasoning.id, summary: [] }, fc, result] }),
      /Items are not persisted when `store` is set to false/,
    );
    fake.enqueue({ text: '18°C.' });
    const ok = await client.responses.create({ model: 'o4-mini', tools, store: false, input: [ask, reasoning, fc, result] });
    assert.equal(ok.output_text, '18°C.');
  });

  test("Chat Completions (an OpenAI-compatible server, or reasoning.api: chat): reasoning effort is sent; the server's reasoning_content stays out of the answer", async () => {
    const t = team('vllm:deepseek-r1', { effort: 'high' }, { providers: { vllm: { type: 'openai', baseUrl: fake.openaiBaseUrl } } });
    fake.enqueue({ thinking: 'hidden chain of thought', toolCalls: [{ name: 'get_weather', args: { city: 'Paris' } }] }, { thinking: 'more hidden', text: 'It is 18°C.' });
    await t.say('weather?');
    assert.deepEqual(
      t.outbox.sent.map((m) => m.text),
      ['It is 18°C.'],
    );
    const requests = fake.requests.filter((r) => r.wire === 'openai');
    assert.equal(requests.length, 2);
    assert.equal(requests[1]!.messages.find((m) => m.role === 'tool')?.content, 'Weather in Paris: 18°C.');
    // Forced onto Chat Completions, OpenAI's own o-series gets reasoning_effort.
    const forced = team('openai:o4-mini', { effort: 'high', api: 'chat' });
    fake.clear();
    fake.enqueue({ text: 'Hi.' });
    await forced.say('hi');
    assert.equal((fake.requests[0]!.body as { reasoning_effort?: string }).reasoning_effort, 'high');
    assert.equal(fake.requests[0]!.wire, 'openai');
  });
});
