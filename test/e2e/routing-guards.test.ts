import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM, type FakeLLMRequest } from '../fakes/llm/index.js';
import { REPO_ROOT, getMessages, postMessage, startPantheonProcess, tempDir, waitForMessage, modelEnv } from '../support/pantheon-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const personaOf = (r: FakeLLMRequest) => /@([a-z0-9-]+)\)/.exec(r.messages[0]?.content ?? '')?.[1] ?? '?';

describe('routing beyond mentions, turn caps, budgets, approval expiry', () => {
  let fake: FakeLLM;
  before(async () => {
    fake = await startFakeLLM();
  });
  after(async () => {
    await fake.close();
  });

  it('bindings and direct conversations route without a mention; caps and budgets stop runs visibly; an unanswered approval expires', async () => {
    const dir = await tempDir();
    await cp(join(REPO_ROOT, 'personas', 'team'), join(dir.path, 'team'), { recursive: true });
    const hermes = join(dir.path, 'team', 'hermes.yaml');
    await writeFile(hermes, `${await readFile(hermes, 'utf8')}\nbudget:\n  dailyTokens: 100\n`);
    await writeFile(
      join(dir.path, 'pantheon.yaml'),
      [
        'personasDir: ./team',
        'humans:',
        '  - { id: jeff, local: jeff, approver: true }',
        'bindings:',
        '  - { channel: "local:ops", persona: hephaestus }',
        'orchestrator:',
        '  maxTurnsPerMessage: 2',
        'policy:',
        '  tools: { post_message: ask }',
        '  approvalTtlMinutes: 0.05',
      ].join('\n'),
    );
    fake.clear();
    const env = modelEnv(fake);
    const app = await startPantheonProcess({ env, dataDir: join(dir.path, 'data'), cwd: dir.path });
    try {
      // A binding: the ops conversation belongs to hephaestus.
      fake.enqueue({ text: 'Restarting the staging api now.' });
      await postMessage(app.url, 'ops', { text: 'restart the staging api please', user: 'alice' });
      assert.equal((await waitForMessage(app.url, 'ops', (m) => m.role === 'agent')).persona, 'hephaestus');

      // A direct conversation with a persona.
      fake.enqueue({ text: 'Artemis here.' });
      await postMessage(app.url, 'dm-artemis', { text: 'got a minute?', user: 'alice' });
      assert.equal((await waitForMessage(app.url, 'dm-artemis', (m) => m.role === 'agent')).persona, 'artemis');

      // The turn cap: three mentions, two turns allowed.
      fake.clear();
      fake.enqueue({ text: 'apollo here' }, { text: 'artemis here' }, { text: 'perseus here' });
      await postMessage(app.url, 'cap', { text: '@apollo @artemis @perseus roll call', user: 'alice' });
      const capped = await waitForMessage(app.url, 'cap', (m) => m.role === 'system');
      assert.match(capped.text, /Stopped: 2 persona turns for one message is the limit/);
      await sleep(300);
      assert.deepEqual(fake.requests.map(personaOf), ['apollo', 'artemis']);
      assert.deepEqual(
        (await getMessages(app.url, 'cap')).filter((m) => m.role === 'agent').map((m) => m.persona),
        ['apollo', 'artemis'],
      );

      // The daily budget: hermes spends 120 of 100 tokens, then is stopped with a clear message.
      fake.clear();
      fake.enqueue({ text: 'hermes, first answer', usage: { input: 90, output: 30 } });
      await postMessage(app.url, 'budget', { text: '@hermes first', user: 'alice' });
      await waitForMessage(app.url, 'budget', (m) => m.role === 'agent');
      await postMessage(app.url, 'budget', { text: '@hermes second', user: 'alice' });
      const spent = await waitForMessage(app.url, 'budget', (m) => m.role === 'system');
      assert.match(spent.text, /Hermes has used today's budget: 120 of 100 tokens/);
      assert.equal(fake.requests.length, 1, 'no model call once the budget is spent');

      // An approval nobody answers expires; the persona carries on without the tool.
      fake.clear();
      fake.enqueue({ toolCalls: [{ name: 'post_message', args: { conversation: 'ops-room', text: 'maintenance tonight', reason: 'announce' } }] }, { text: 'Nobody approved, so I did not post it.' });
      await postMessage(app.url, 'expiry', { text: '@athena announce maintenance in ops-room', user: 'alice' });
      await waitForMessage(app.url, 'expiry', (m) => /Approval needed/.test(m.text));
      const expired = await waitForMessage(app.url, 'expiry', (m) => /expired/.test(m.text) && m.role === 'system', 20_000);
      assert.match(expired.text, /athena did not run post_message/);
      await waitForMessage(app.url, 'expiry', (m) => m.text === 'Nobody approved, so I did not post it.');
      assert.match(fake.requests.at(-1)!.messages.find((m) => m.role === 'tool')?.content ?? '', /Not run.*expired|expired/i);
      assert.deepEqual(await getMessages(app.url, 'ops-room'), []);
    } finally {
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });
});
