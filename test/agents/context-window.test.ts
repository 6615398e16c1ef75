/**
 * Context windows from tokenlens's registry (agents/context-window.ts): the common models by name,
 * dated and newer point releases by their family, and a conservative window for a model the
 * registry does not know; a persona's history budget is never more than half of it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { contextWindowOf, historyBudget, UNKNOWN_WINDOW } from '../../agents/context-window.js';

describe('context windows of models', () => {
  test('the common models, from the registry', () => {
    assert.equal(contextWindowOf('anthropic:claude-sonnet-4-5'), 200_000, 'a newer point release: its family’s window');
    assert.equal(contextWindowOf('anthropic:claude-sonnet-4-20250514'), 200_000);
    assert.equal(contextWindowOf('anthropic:claude-sonnet-4-5-20250929'), 200_000, 'a dated id without its date');
    assert.equal(contextWindowOf('openai:gpt-4.1-mini'), 1_047_576);
    assert.equal(contextWindowOf('openai:gpt-4.1-mini-2025-04-14'), 1_047_576);
    assert.equal(contextWindowOf('openai:gpt-4o'), 128_000);
    assert.equal(contextWindowOf('openai:gpt-4'), 8192);
  });

  test('an unknown model gets no window from the registry, and the conservative one for its budget', () => {
    assert.equal(contextWindowOf('ollama:llama3.1:8b'), undefined);
    assert.equal(contextWindowOf('openai:my-fine-tune'), undefined);
    assert.equal(contextWindowOf('anthropic:claude-next'), undefined);
    assert.equal(UNKNOWN_WINDOW, 32_768);
    assert.equal(historyBudget(50_000, 'ollama:llama3.1:8b'), 16_384, 'at most half the assumed window');
    assert.equal(historyBudget(12_000, 'ollama:llama3.1:8b'), 12_000, 'the default budget fits it');
    assert.equal(historyBudget(50_000, undefined), 16_384, 'no model resolved: the same');
  });

  test('the history budget is the configured one, never more than half the window', () => {
    assert.equal(historyBudget(12_000, 'anthropic:claude-sonnet-4-5'), 12_000);
    assert.equal(historyBudget(150_000, 'anthropic:claude-sonnet-4-5'), 100_000);
    assert.equal(historyBudget(600_000, 'openai:gpt-4.1-mini'), 523_788);
    assert.equal(historyBudget(50_000, 'openai:gpt-4'), 4096);
  });
});
