/** The scripted model server itself: wire shapes, auth, embeddings, the control API and the standalone entry. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { type FakeLLM, type FakeLLMRequest } from '../fakes/llm/index.js';
import { useFakeLLM } from '../support/fake-llm.js';

let fake: FakeLLM;
useFakeLLM((f) => (fake = f));

const openai = () => new OpenAI({ apiKey: 'sk-test', baseURL: fake.openaiBaseUrl, maxRetries: 0 });
const anthropic = () => new Anthropic({ apiKey: 'sk-ant-test', baseURL: fake.anthropicBaseUrl, maxRetries: 0 });

test('requests without credentials get 401 in each platform shape', async () => {
  const post = (path: string, body: unknown) => fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const o = await post('/v1/chat/completions', { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(o.status, 401);
  const ob = (await o.json()) as any;
  assert.equal(ob.error.code, 'invalid_api_key');
  assert.equal(typeof ob.error.message, 'string');
  const a = await post('/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [] });
  assert.equal(a.status, 401);
  assert.deepEqual(Object.keys((await a.json()) as object).sort(), ['error', 'request_id', 'type']);
  const e = await post('/v1/embeddings', { model: 'text-embedding-3-small', input: 'x' });
  assert.equal(e.status, 401);
  assert.equal(fake.requests.length, 3, 'rejected requests are recorded too');
});

test('scripted errors reach the SDKs with status, type and headers', async () => {
  fake.enqueue({ status: 429, error: 'Rate limit reached', headers: { 'retry-after': '7' } }, { status: 529, error: 'Overloaded' });
  const oe = await openai()
    .chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'x' }] })
    .catch((e) => e);
  assert.ok(oe instanceof OpenAI.RateLimitError);
  assert.equal(oe.code, 'rate_limit_exceeded');
  assert.equal(oe.headers.get('retry-after'), '7');
  const ae = await anthropic()
    .messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
    .catch((e) => e);
  assert.ok(ae instanceof Anthropic.APIError);
  assert.equal(ae.status, 529);
  assert.equal((ae.error as any).error.type, 'overloaded_error');
  assert.match(ae.message, /Overloaded/);
});

test('Anthropic system blocks and tool results are normalised; responders see the request', async () => {
  let seen: FakeLLMRequest | undefined;
  fake.setResponder((req) => {
    seen = req;
    return { text: `you sent ${req.messages.length} messages` };
  });
  const msg = await anthropic().messages.create({
    model: 'claude-sonnet-4-5',
    max_tokens: 100,
    system: [{ type: 'text', text: 'Be brief.' }],
    tools: [{ name: 'lookup', description: 'd', input_schema: { type: 'object', properties: {} } }],
    messages: [
      { role: 'user', content: 'find it' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'it' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'found' }] },
    ],
  });
  assert.deepEqual(msg.content, [{ type: 'text', text: 'you sent 4 messages' }]);
  assert.deepEqual(seen?.messages, [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'find it' },
    { role: 'assistant', content: '', toolCalls: [{ id: 'toolu_1', name: 'lookup', args: { q: 'it' } }] },
    { role: 'tool', content: 'found', toolCallId: 'toolu_1' },
  ]);
  assert.deepEqual(seen?.tools, ['lookup']);
});

test('ids never repeat, across wires and calls', async () => {
  const ids = new Set<string>();
  for (let i = 0; i < 5; i++) {
    ids.add((await openai().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).id);
    ids.add((await anthropic().messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).id);
  }
  assert.equal(ids.size, 10);
});

test('embeddings: deterministic unit vectors, 384 dimensions by default, `dimensions` honoured', async () => {
  const client = openai();
  // The SDK asks for base64 unless told otherwise and decodes it itself.
  const a = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['deploy the api', 'rotate the keys'] });
  assert.equal(a.data.length, 2);
  assert.equal(a.data[0].embedding.length, 384);
  const b = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'deploy the api', encoding_format: 'float' });
  const va = a.data[0].embedding;
  const vb = b.data[0].embedding;
  assert.ok(
    va.every((x, i) => Math.abs(x - vb[i]) < 1e-6),
    'same text, same vector (base64 and float agree)',
  );
  const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i], 0);
  assert.ok(Math.abs(dot(vb, vb) - 1) < 1e-9, 'unit length');
  assert.ok(Math.abs(dot(va, a.data[1].embedding)) < 0.3, 'different texts point elsewhere');
  const small = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x', dimensions: 16, encoding_format: 'float' });
  assert.equal(small.data[0].embedding.length, 16);
  assert.ok(small.usage.prompt_tokens > 0);
  assert.equal(fake.requests.at(-1)?.wire, 'embeddings');
});

test('delayMs holds the answer back', async () => {
  fake.enqueue({ text: 'slow', delayMs: 300 });
  const started = Date.now();
  const r = await openai().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(r.choices[0].message.content, 'slow');
  assert.ok(Date.now() - started >= 290);
});

test('main.ts runs standalone and is steered through the control API from outside', async () => {
  const main = fileURLToPath(new URL('../fakes/llm/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`fake exited early with ${code}`)));
    });
    const info = JSON.parse(line) as { url: string; openaiBaseUrl: string; anthropicBaseUrl: string };
    assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const control = (path: string, body?: unknown) =>
      fetch(`${info.url}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    assert.equal((await control('/_fake/enqueue', [{ text: 'scripted from outside' }])).status, 200);
    const client = new OpenAI({ apiKey: 'k', baseURL: info.openaiBaseUrl, maxRetries: 0 });
    const first = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'a' }] });
    assert.equal(first.choices[0].message.content, 'scripted from outside');

    assert.equal((await control('/_fake/responder', { mode: 'fixed', text: 'always this' })).status, 200);
    const ant = new Anthropic({ apiKey: 'k', baseURL: info.anthropicBaseUrl, maxRetries: 0 });
    const second = await ant.messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'b' }] });
    assert.deepEqual(second.content, [{ type: 'text', text: 'always this' }]);

    const requests = (await (await control('/_fake/requests')).json()) as FakeLLMRequest[];
    assert.deepEqual(
      requests.map((r) => [r.wire, r.messages.at(-1)?.content]),
      [
        ['openai', 'a'],
        ['anthropic', 'b'],
      ],
    );
    assert.equal((await control('/_fake/responder', { mode: 'nonsense' })).status, 400);
    await control('/_fake/clear', {});
    assert.deepEqual(await (await control('/_fake/requests')).json(), []);
  } finally {
    child.kill('SIGTERM');
  }
});
