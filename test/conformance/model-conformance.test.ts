/**
 * The model conformance suite (orchestrator/conformance) against the scripted model server, over
 * three wires (Chat Completions, the Responses API with a reasoning model, Anthropic Messages), through the real LangChain SDKs and Pantheon's persona model (its retries and
 * fallback chain). With PANTHEON_LIVE_MODEL=provider:model (and the provider's key in the
 * environment) it also runs the live scenarios against that real model and prints the table.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPersonaModel } from '../../agents/index.js';
import { renderConformance, runConformance } from '../../orchestrator/conformance/run.js';
import { SCENARIOS } from '../../orchestrator/conformance/scenarios.js';
import type { FakeLLM, ScriptedResponse, Wire } from '../fakes/llm/index.js';
import { fakeProviderEnv, useFakeLLM } from '../support/fake-llm.js';

let fake: FakeLLM;
useFakeLLM((f) => (fake = f));

/** Chat Completions, OpenAI's Responses API (a reasoning model: its reasoning items must go back), Anthropic Messages. */
const WIRES: Array<[spec: string, wire: string, path: Wire]> = [
  ['openai:gpt-4.1-mini', 'Chat Completions', 'openai'],
  ['openai:o4-mini', 'the Responses API', 'responses'],
  ['anthropic:claude-sonnet-4-5', 'Anthropic Messages', 'anthropic'],
];

for (const [spec, wire, path] of WIRES) {
  describe(`conformance, scripted model over ${wire}`, () => {
    test('every scenario passes, and each leaves the thread answering the next message', async () => {
      // A short timeout so the timeout scenario (an answer 3 s late) fails fast; backoff shortened.
      const model = createPersonaModel({ persona: { id: 'apollo', model: spec }, models: { timeoutMs: 1000, maxRetries: 2 }, env: fakeProviderEnv(fake), retry: { baseDelayMs: 5, maxDelayMs: 20 } });
      const results = await runConformance({
        model,
        script: (answers) => {
          fake.clear();
          fake.enqueue(...(answers as ScriptedResponse[]));
        },
        pending: () => fake.pending,
      });
      const table = renderConformance(`${spec} (scripted)`, results);
      assert.deepEqual([...new Set(fake.requests.map((r) => r.wire))], [path], 'every request of the last scenario went over this wire');
      assert.equal(results.length, SCENARIOS.length);
      assert.deepEqual(
        results.filter((r) => r.outcome !== 'pass').map((r) => `${r.id}: ${r.detail}`),
        [],
        table,
      );
    });
  });
}

const live = process.env.PANTHEON_LIVE_MODEL;
describe('conformance against a real model (PANTHEON_LIVE_MODEL)', { skip: live ? false : 'set PANTHEON_LIVE_MODEL=provider:model and its API key' }, () => {
  test(`${live}: the live scenarios`, async () => {
    const model = createPersonaModel({ persona: { id: 'apollo', model: live! }, models: {} });
    const results = await runConformance({ model });
    process.stdout.write(renderConformance(live!, results));
    assert.deepEqual(
      results.filter((r) => r.outcome === 'fail').map((r) => `${r.id}: ${r.detail}`),
      [],
    );
  });
});
