/**
 * Each provider's real LangChain chat model (and so its official SDK) against the scripted
 * model server over HTTP, one JSON and one SSE round trip per wire, text and tool calls.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { type FakeLLM } from '../fakes/llm/index.js';
import { fakeProviderEnv, useFakeLLM } from '../support/fake-llm.js';
import { buildChatModel } from '../../agents/index.js';

const weather = tool(async ({ city }) => `sunny in ${city}`, {
  name: 'get_weather',
  description: 'Current weather for a city',
  schema: z.object({ city: z.string() }),
});

let fake: FakeLLM;
useFakeLLM((f) => (fake = f));

const env = () => fakeProviderEnv(fake);

async function collect(stream: AsyncIterable<AIMessageChunk>): Promise<{ chunks: number; message: AIMessageChunk }> {
  let message: AIMessageChunk | undefined;
  let chunks = 0;
  for await (const c of stream) {
    chunks += 1;
    message = message ? message.concat(c) : c;
  }
  assert.ok(message, 'the stream produced no chunks');
  return { chunks, message };
}

for (const provider of ['openai', 'anthropic'] as const) {
  describe(`${provider} wire`, () => {
    const spec = provider === 'openai' ? 'openai:gpt-4.1-mini' : 'anthropic:claude-sonnet-4-5';
    const model = () => buildChatModel(spec, { models: {}, env: env() });

    test('JSON: text answer with usage, system prompt and auth reach the server', async () => {
      fake.enqueue({ text: 'Hello from the fake', usage: { input: 11, output: 7 } });
      const out = await model().invoke([new SystemMessage('You are Apollo.'), new HumanMessage('hi there')]);
      assert.equal(out.content, 'Hello from the fake');
      assert.equal(out.usage_metadata?.input_tokens, 11);
      assert.equal(out.usage_metadata?.output_tokens, 7);
      const [req] = fake.requests;
      assert.equal(req.wire, provider);
      assert.equal(req.stream, false);
      assert.equal(req.model, spec.split(':')[1]);
      assert.deepEqual(
        req.messages.map((m) => [m.role, m.content]),
        [
          ['system', 'You are Apollo.'],
          ['user', 'hi there'],
        ],
      );
      if (provider === 'openai') assert.equal(req.headers.authorization, 'Bearer sk-test-openai');
      else assert.equal(req.headers['x-api-key'], 'sk-ant-test');
    });

    test('JSON: a tool call comes back as tool_calls, and the tool result goes out', async () => {
      fake.enqueue({ toolCalls: [{ name: 'get_weather', args: { city: 'Athens' } }] }, { text: 'It is sunny.' });
      const bound = model().bindTools!([weather]);
      const first = (await bound.invoke([new HumanMessage('weather in Athens?')])) as AIMessage;
      assert.equal(first.tool_calls?.length, 1);
      assert.equal(first.tool_calls?.[0].name, 'get_weather');
      assert.deepEqual(first.tool_calls?.[0].args, { city: 'Athens' });
      const callId = first.tool_calls?.[0].id;
      assert.ok(callId);
      assert.deepEqual(fake.requests[0].tools, ['get_weather']);

      const second = await bound.invoke([new HumanMessage('weather in Athens?'), first, new ToolMessage({ content: 'sunny in Athens', tool_call_id: callId })]);
      assert.equal(second.content, 'It is sunny.');
      const sent = fake.requests[1].messages;
      assert.deepEqual(sent.find((m) => m.role === 'assistant')?.toolCalls?.[0], { id: callId, name: 'get_weather', args: { city: 'Athens' } });
      assert.deepEqual(
        sent.find((m) => m.role === 'tool'),
        { role: 'tool', content: 'sunny in Athens', toolCallId: callId },
      );
    });

    test('SSE: text arrives in several chunks and adds up, with usage', async () => {
      fake.enqueue({ text: 'A streamed answer that spans several chunks.', usage: { input: 5, output: 9 } });
      const { chunks, message } = await collect(await model().stream([new HumanMessage('stream please')]));
      assert.ok(chunks > 2, `expected several chunks, got ${chunks}`);
      assert.equal(message.content, 'A streamed answer that spans several chunks.');
      assert.equal(message.usage_metadata?.input_tokens, 5);
      assert.equal(message.usage_metadata?.output_tokens, 9);
      assert.equal(fake.requests[0].stream, true);
    });

    test('SSE: a tool call streams as argument deltas and parses', async () => {
      fake.enqueue({ toolCalls: [{ name: 'get_weather', args: { city: 'Thessaloniki, Greece' } }] });
      const bound = model().bindTools!([weather]);
      const { message } = await collect((await bound.stream([new HumanMessage('weather?')])) as AsyncIterable<AIMessageChunk>);
      assert.equal(message.tool_calls?.length, 1);
      assert.equal(message.tool_calls?.[0].name, 'get_weather');
      assert.deepEqual(message.tool_calls?.[0].args, { city: 'Thessaloniki, Greece' });
      assert.equal(fake.requests[0].stream, true);
    });

    test('every answer carries a fresh id', async () => {
      const a = await model().invoke('one');
      const b = await model().invoke('two');
      assert.ok(a.id && b.id);
      assert.notEqual(a.id, b.id);
      assert.equal(a.content, 'echo: one');
    });
  });
}
