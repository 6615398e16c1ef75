import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM, type FakeLLMRequest, type ScriptedResponse } from '../fakes/llm/index.js';
import { modelEnv, postMessage, startPantheonProcess, tempDir, waitForMessage } from '../support/pantheon-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const systemOf = (r: FakeLLMRequest) => r.messages[0]?.content ?? '';
const personaOf = (r: FakeLLMRequest) => /@([a-z0-9-]+)\)/.exec(systemOf(r))?.[1] ?? '?';

interface Hit {
  memory: { id: string; content: string; scope: string; kind: string };
}

describe('shared memory through the local chat', () => {
  let fake: FakeLLM;
  before(async () => {
    fake = await startFakeLLM();
  });
  after(async () => {
    await fake.close();
  });

  it("a team fact from athena reaches hermes in another conversation; apollo's private memory does not; forget removes it; a dimension switch needs reembed; an idle conversation is summarised and recalled later", async () => {
    const dir = await tempDir();
    const config = (dimension: number) =>
      writeFile(join(dir.path, 'pantheon.yaml'), ['memory:', `  embedder: { provider: lexical, dimension: ${dimension} }`, '  summarizeAfterIdleMinutes: 0.03'].join('\n'));
    await config(384);
    const start = () => startPantheonProcess({ env: modelEnv(fake), dataDir: join(dir.path, 'data'), cwd: dir.path });
    fake.clear();
    // Summaries of idle conversations are asked for at any time: answer by who asks, never from a shared queue.
    const scripts = new Map<string, ScriptedResponse[]>();
    const script = (persona: string, ...answers: ScriptedResponse[]) => scripts.set(persona, answers);
    fake.setResponder((req) => {
      const queued = scripts.get(personaOf(req))?.shift();
      if (queued) return queued;
      if (personaOf(req) === '?' && /rate limiter/.test(JSON.stringify(req.messages))) {
        return { text: 'Decisions: ship the rate limiter behind a flag named rl_v2. Open questions: none.' };
      }
      return { text: 'NOTHING' };
    });
    let app = await start();
    const search = async (q: string) => {
      const res = await fetch(`${app.url}/api/memory?q=${encodeURIComponent(q)}`, { headers: app.auth });
      return { status: res.status, body: (await res.json()) as { hits?: Hit[]; error?: { code: string; message: string } } };
    };
    try {
      // athena writes a team fact in one conversation...
      script('athena', { toolCalls: [{ name: 'remember', args: { content: 'The staging database listens on port 6543.', kind: 'fact', scope: 'team' } }] }, { text: 'Noted.' });
      await postMessage(app.url, 'infra-notes', { text: '@athena remember: staging database port is 6543', user: 'alice' });
      await waitForMessage(app.url, 'infra-notes', (m) => m.text === 'Noted.');
      // ...and apollo keeps a private one.
      script(
        'apollo',
        { toolCalls: [{ name: 'remember', args: { content: 'Alice prefers tabs over spaces in the staging scripts.', kind: 'preference', scope: 'private' } }] },
        { text: 'Kept to myself.' },
      );
      await postMessage(app.url, 'apollo-notes', { text: '@apollo remember privately: alice prefers tabs in the staging scripts', user: 'alice' });
      await waitForMessage(app.url, 'apollo-notes', (m) => m.text === 'Kept to myself.');

      // hermes, elsewhere, gets the team fact in context but not apollo's private note.
      script('hermes', { toolCalls: [{ name: 'recall', args: { query: 'staging scripts tabs preference' } }] }, { text: 'Port 6543.' });
      await postMessage(app.url, 'ops-questions', { text: '@hermes which port does the staging database use, and how should staging scripts be indented?', user: 'bob' });
      await waitForMessage(app.url, 'ops-questions', (m) => m.text === 'Port 6543.');
      const hermesCalls = fake.requests.filter((r) => personaOf(r) === 'hermes');
      assert.match(systemOf(hermesCalls[0]!), /6543/, "the team fact was recalled into hermes's context");
      assert.ok(!hermesCalls.some((r) => JSON.stringify(r.messages).includes('prefers tabs')), "apollo's private memory never reaches hermes");

      // forget removes it from every search.
      const found = await search('staging database port');
      const fact = found.body.hits!.find((h) => h.memory.content.includes('6543'))!;
      assert.ok(fact, JSON.stringify(found.body));
      assert.equal((await fetch(`${app.url}/api/memory/${fact.memory.id}`, { method: 'DELETE', headers: app.auth })).status, 200);
      assert.ok(!(await search('staging database port 6543')).body.hits!.some((h) => h.memory.id === fact.memory.id));

      // An idle conversation is summarised into memory.
      script('athena', { text: 'We will ship it behind the rl_v2 flag.' });
      await postMessage(app.url, 'rollout', { text: '@athena how do we ship the rate limiter?', user: 'alice' });
      await waitForMessage(app.url, 'rollout', (m) => m.role === 'agent');
      let summary: Hit | undefined;
      for (let i = 0; i < 60 && !summary; i++) {
        await sleep(250);
        summary = (await search('rate limiter flag rl_v2')).body.hits?.find((h) => h.memory.kind === 'summary');
      }
      assert.ok(summary, 'the idle conversation was summarised');
      assert.match(summary!.memory.content, /rl_v2/);
      script('hermes', { text: 'Behind rl_v2, as decided.' });
      await postMessage(app.url, 'later', { text: '@hermes which flag is the rate limiter behind?', user: 'bob' });
      await waitForMessage(app.url, 'later', (m) => m.role === 'agent');
      const hermes = fake.requests.filter((r) => personaOf(r) === 'hermes').at(-1)!;
      assert.match(systemOf(hermes), /rl_v2/, 'the summary is recalled in a later, related conversation');
    } finally {
      assert.equal(await app.stop(), 0);
    }

    // A different dimension: search refuses clearly until reembed, then works.
    await config(256);
    app = await start();
    try {
      const refused = await search('staging scripts');
      assert.equal(refused.status, 409);
      assert.match(refused.body.error!.message, /reembed/);
      assert.equal((await fetch(`${app.url}/api/memory/reembed`, { method: 'POST', headers: app.auth })).status, 200);
      const again = await search('rate limiter flag rl_v2');
      assert.equal(again.status, 200);
      assert.ok(again.body.hits!.some((h) => h.memory.content.includes('rl_v2')));
    } finally {
      fake.setResponder(undefined);
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });
});
