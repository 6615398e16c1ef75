/** Which models a persona gets, in which order, and the errors that say what to set. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPersonaModel, FallbackChatModel, parseModelSpec, priceFor, costUsd, resolveModelChain } from '../../agents/index.js';

const apollo = { id: 'apollo' };

test('resolution order: persona model, PANTHEON_MODEL, models.default, then auto-detect', () => {
  const env = { PANTHEON_MODEL: 'openai:gpt-4.1', ANTHROPIC_API_KEY: 'k', OPENAI_API_KEY: 'k' };
  const models = { default: 'anthropic:claude-haiku-4-5' };
  assert.deepEqual(resolveModelChain({ ...apollo, model: 'openai:gpt-4o' }, models, env), ['openai:gpt-4o']);
  assert.deepEqual(resolveModelChain(apollo, models, env), ['openai:gpt-4.1']);
  assert.deepEqual(resolveModelChain(apollo, models, { ...env, PANTHEON_MODEL: '' }), ['anthropic:claude-haiku-4-5']);
  assert.deepEqual(resolveModelChain(apollo, {}, { ANTHROPIC_API_KEY: 'k', OPENAI_API_KEY: 'k' }), ['anthropic:claude-sonnet-4-5']);
  assert.deepEqual(resolveModelChain(apollo, {}, { OPENAI_API_KEY: 'k' }), ['openai:gpt-4.1-mini']);
});

test('fallbacks follow the primary, persona list over models.fallback, without repeats', () => {
  const models = { default: 'anthropic:claude-sonnet-4-5', fallback: ['openai:gpt-4.1-mini', 'anthropic:claude-sonnet-4-5'] };
  assert.deepEqual(resolveModelChain(apollo, models, {}), ['anthropic:claude-sonnet-4-5', 'openai:gpt-4.1-mini']);
  assert.deepEqual(resolveModelChain({ ...apollo, fallbackModels: ['openai:gpt-4o', ' openai:gpt-4o '] }, models, {}), ['anthropic:claude-sonnet-4-5', 'openai:gpt-4o']);
});

test('no model anywhere: the error lists every way to set one', () => {
  assert.throws(
    () => resolveModelChain(apollo, {}, {}),
    (err: Error) =>
      /persona "apollo"/.test(err.message) &&
      /model:/.test(err.message) &&
      /PANTHEON_MODEL/.test(err.message) &&
      /models\.default/.test(err.message) &&
      /ANTHROPIC_API_KEY/.test(err.message) &&
      /OPENAI_API_KEY/.test(err.message),
  );
});

test('parseModelSpec splits at the first colon and explains bad names', () => {
  assert.deepEqual(parseModelSpec('anthropic:claude-sonnet-4-5'), { provider: 'anthropic', model: 'claude-sonnet-4-5' });
  assert.deepEqual(parseModelSpec('ollama:llama3.1:8b'), { provider: 'ollama', model: 'llama3.1:8b' });
  for (const bad of ['claude-sonnet-4-5', ':gpt-4o', 'openai:', '', '9x:model']) {
    assert.throws(() => parseModelSpec(bad), /provider:model form/, bad);
  }
  assert.throws(() => parseModelSpec('ollama:llama3', { providers: {} }), /provider "ollama".*models\.providers/);
  assert.deepEqual(parseModelSpec('ollama:llama3', { providers: { ollama: { type: 'openai', baseUrl: 'http://127.0.0.1:11434/v1' } } }), {
    provider: 'ollama',
    model: 'llama3',
  });
});

test('an unknown provider in the chain fails when the persona model is built', () => {
  assert.throws(() => resolveModelChain({ ...apollo, model: 'mistral:large' }, {}, {}), /provider "mistral"/);
});

test('a built-in provider without its API key fails with the variable to set', () => {
  assert.throws(() => createPersonaModel({ persona: { ...apollo, model: 'anthropic:claude-sonnet-4-5' }, models: {}, env: {} }), /ANTHROPIC_API_KEY/);
  const model = createPersonaModel({
    persona: { ...apollo, model: 'anthropic:claude-sonnet-4-5', fallbackModels: ['openai:gpt-4.1-mini'] },
    models: {},
    env: { ANTHROPIC_API_KEY: 'a', OPENAI_API_KEY: 'o' },
  });
  assert.ok(model instanceof FallbackChatModel);
  // OPENAI_BASE_URL pointing at a self-hosted server needs no key.
  assert.doesNotThrow(() => createPersonaModel({ persona: { ...apollo, model: 'openai:llama3.1' }, models: {}, env: { OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' } }));
  assert.deepEqual(model.specs, ['anthropic:claude-sonnet-4-5', 'openai:gpt-4.1-mini']);
});

test('prices: built-in table, dated ids, overrides, unknown models cost nothing', () => {
  assert.deepEqual(priceFor('anthropic', 'claude-sonnet-4-5-20250929'), { inputPerMTok: 3, outputPerMTok: 15 });
  assert.deepEqual(priceFor('openai', 'gpt-4.1-mini'), { inputPerMTok: 0.4, outputPerMTok: 1.6 });
  assert.equal(costUsd('anthropic', 'claude-sonnet-4-5', { input: 1_000_000, output: 1_000_000 }), 18);
  assert.equal(costUsd('ollama', 'llama3.1:8b', { input: 1000, output: 1000 }), 0);
  const overrides = { 'ollama:llama3.1:8b': { inputPerMTok: 1, outputPerMTok: 2 }, 'gpt-4.1-mini': { inputPerMTok: 10, outputPerMTok: 20 } };
  assert.equal(costUsd('ollama', 'llama3.1:8b', { input: 1_000_000, output: 500_000 }, overrides), 2);
  assert.equal(costUsd('openai', 'gpt-4.1-mini', { input: 100_000, output: 0 }, overrides), 1);
});
