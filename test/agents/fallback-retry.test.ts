/**
 * Retries and fallback through the real SDKs against the scripted model server:
 * 5xx retried up to maxRetries, Retry-After waited for, 4xx not retried, a failing
 * primary handed over to the next model of the chain.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { type FakeLLM } from '../fakes/llm/index.js';
import { fakeProviderEnv, useFakeLLM } from '../support/fake-llm.js';
import { createPersonaModel, MemoryUsageRecorder, ModelChainError, type ModelsConfig } from '../../agents/index.js';

let fake: FakeLLM;
useFakeLLM((f) => (fake = f));

const env = () => fakeProviderEnv(fake);

function personaModel(persona: { model: string; fallbackModels?: string[] }, models: ModelsConfig = {}, recorder?: MemoryUsageRecorder) {
  return createPersonaModel({
    persona: { id: 'apollo', ...persona },
    models: { timeoutMs: 5_000, maxRetries: 2, ...models },
    env: env(),
    recorder,
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
  });
}

test('primary answering 500 on every retry falls back to the next model, on the other wire', async () => {
  fake.enqueue({ status: 500, error: 'overloaded' }, { status: 500, error: 'overloaded' }, { status: 500, error: 'overloaded' }, { text: 'answer from the fallback' });
  const recorder = new MemoryUsageRecorder();
  const model = personaModel({ model: 'anthropic:claude-sonnet-4-5', fallbackModels: ['openai:gpt-4.1-mini'] }, {}, recorder);
  const out = await model.invoke('ship it');
  assert.equal(out.content, 'answer from the fallback');
  assert.deepEqual(
    fake.requests.map((r) => r.wire),
    ['anthropic', 'anthropic', 'anthropic', 'openai'],
  );
  assert.deepEqual(
    recorder.records.map((r) => [r.provider, r.ok]),
    [
      ['anthropic', false],
      ['anthropic', false],
      ['anthropic', false],
      ['openai', true],
    ],
  );
});

test('a 500 is retried up to maxRetries, then the error says what failed', async () => {
  fake.setResponder(() => ({ status: 503, error: 'service unavailable' }));
  const model = personaModel({ model: 'openai:gpt-4.1-mini' }, { maxRetries: 3 });
  await assert.rejects(model.invoke('hello'), (err: unknown) => {
    assert.ok(err instanceof ModelChainError);
    assert.match(err.message, /openai:gpt-4\.1-mini/);
    assert.match(err.message, /503/);
    return true;
  });
  assert.equal(fake.requests.length, 4, 'one try and three retries');
});

test('a 400 is not retried', async () => {
  fake.enqueue({ status: 400, error: 'messages: field required' }, { text: 'should not be reached by a retry' });
  const model = personaModel({ model: 'anthropic:claude-sonnet-4-5' });
  await assert.rejects(model.invoke('hello'), /field required/);
  assert.equal(fake.requests.length, 1);
});

for (const spec of ['openai:gpt-4.1-mini', 'anthropic:claude-sonnet-4-5']) {
  test(`${spec}: a 429 with retry-after: 1 is retried after about a second`, async () => {
    fake.enqueue({ status: 429, error: 'slow down', headers: { 'retry-after': '1' } }, { text: 'finally' });
    const model = personaModel({ model: spec });
    const out = await model.invoke('hello');
    assert.equal(out.content, 'finally');
    assert.equal(fake.requests.length, 2);
    const gap = fake.requests[1].at - fake.requests[0].at;
    assert.ok(gap >= 950 && gap < 1_600, `retried after ${gap} ms, expected about 1000 ms`);
  });
}

test('a 429 without Retry-After is retried after a short backoff (LangChain alone would give up)', async () => {
  fake.enqueue({ status: 429, error: 'Rate limit reached' }, { text: 'second time lucky' });
  const model = personaModel({ model: 'openai:gpt-4.1-mini' });
  assert.equal((await model.invoke('hello')).content, 'second time lucky');
  assert.equal(fake.requests.length, 2);
});

test('x-should-retry: false is obeyed: the fallback answers at once', async () => {
  fake.enqueue({ status: 429, error: 'You exceeded your current quota', headers: { 'x-should-retry': 'false' } }, { text: 'from the fallback' });
  const model = personaModel({ model: 'openai:gpt-4.1-mini', fallbackModels: ['anthropic:claude-haiku-4-5'] });
  assert.equal((await model.invoke('hello')).content, 'from the fallback');
  assert.deepEqual(
    fake.requests.map((r) => r.wire),
    ['openai', 'anthropic'],
  );
});

test('a Retry-After too long to wait for hands over to the fallback at once', async () => {
  fake.enqueue({ status: 429, error: 'come back later', headers: { 'retry-after': '120' } }, { text: 'fallback was quick' });
  const model = personaModel({ model: 'openai:gpt-4.1-mini', fallbackModels: ['anthropic:claude-haiku-4-5'] });
  const started = Date.now();
  const out = await model.invoke('hello');
  assert.equal(out.content, 'fallback was quick');
  assert.ok(Date.now() - started < 1_000);
  assert.deepEqual(
    fake.requests.map((r) => r.wire),
    ['openai', 'anthropic'],
  );
});

test('a model slower than timeoutMs is abandoned for the fallback', async () => {
  fake.enqueue({ text: 'too late', delayMs: 1_500 }, { text: 'in time' });
  const model = personaModel({ model: 'openai:gpt-4.1-mini', fallbackModels: ['openai:gpt-4.1-nano'] }, { timeoutMs: 200 });
  const started = Date.now();
  const out = await model.invoke('hello');
  assert.equal(out.content, 'in time');
  assert.ok(Date.now() - started < 1_200, 'did not wait for the slow answer');
  assert.deepEqual(
    fake.requests.map((r) => r.model),
    ['gpt-4.1-mini', 'gpt-4.1-nano'],
  );
});

test('a 401 (bad key) is not retried', async () => {
  fake.enqueue({ status: 401, error: 'invalid x-api-key' }, { text: 'should not be reached by a retry' });
  const model = personaModel({ model: 'anthropic:claude-sonnet-4-5' });
  await assert.rejects(model.invoke('hello'), /invalid x-api-key/);
  assert.equal(fake.requests.length, 1);
});

test('a custom provider without an apiKey gets a placeholder key, and model names may hold colons', async () => {
  const model = createPersonaModel({
    persona: { id: 'apollo', model: 'local:llama3.1:8b' },
    models: { providers: { local: { type: 'openai', baseUrl: fake.openaiBaseUrl } } },
    env: {},
  });
  assert.equal((await model.invoke('hi')).content, 'echo: hi');
  assert.equal(fake.requests[0].model, 'llama3.1:8b');
  assert.match(String(fake.requests[0].headers.authorization), /^Bearer \S+/);
});
