import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM, type FakeLLMRequest } from '../fakes/llm/index.js';
import { getMessages, postMessage, startPantheonProcess, tempDir, waitForMessage, type ApiMessage, modelEnv } from '../support/pantheon-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Which persona a model request was made for, from its system prompt. */
const personaOf = (r: FakeLLMRequest) => /@([a-z0-9-]+)\)/.exec(r.messages[0]?.content ?? '')?.[1] ?? (/You are Pantheon/.test(r.messages[0]?.content ?? '') ? 'pantheon' : '?');
const agentLines = (ms: ApiMessage[]) => ms.filter((m) => m.role === 'agent').map((m) => `${m.persona}: ${m.text}`);

describe('the orchestrator: routing, handoffs, the ledger, loop guards', () => {
  let fake: FakeLLM;
  before(async () => {
    fake = await startFakeLLM();
  });
  after(async () => {
    await fake.close();
  });
  const env = () => modelEnv(fake);

  it('athena hands off to apollo inside the graph; apollo answers in the thread; the ledger has the work; the orchestrator reports it', async () => {
    const dir = await tempDir();
    fake.clear();
    const app = await startPantheonProcess({ env: env(), dataDir: dir.path });
    try {
      fake.enqueue(
        { text: 'Handing this to Apollo.', toolCalls: [{ name: 'handoff', args: { to: 'apollo', message: 'Add rate limiting to the public API (100 req/min per key).' } }] },
        { text: 'On it: rate limiting goes in as middleware, PR coming.' },
      );
      await postMessage(app.url, 'plan', { text: '@athena we need rate limiting on the API, get apollo on it', user: 'alice' });
      await waitForMessage(app.url, 'plan', (m) => m.persona === 'apollo');
      assert.deepEqual(agentLines(await getMessages(app.url, 'plan')), ['athena: Handing this to Apollo.', 'apollo: On it: rate limiting goes in as middleware, PR coming.']);
      const [athenaCall, apolloCall] = fake.requests;
      assert.equal(personaOf(athenaCall!), 'athena');
      assert.ok(athenaCall!.tools.includes('handoff'));
      assert.equal(personaOf(apolloCall!), 'apollo');
      const ask = apolloCall!.messages.at(-1)!;
      assert.equal(ask.role, 'user');
      assert.match(ask.content, /^Athena hands this to you \(work item W-\d+\): Add rate limiting/);
      assert.ok(!apolloCall!.messages.some((m) => m.role === 'tool'), "athena's tool traffic is not shown to apollo");

      const work = (await (await fetch(`${app.url}/api/work`, { headers: app.auth })).json()) as {
        items: Array<{ id: string; owner: string; state: string; originThread: string; requestedBy: string; title: string }>;
      };
      assert.equal(work.items.length, 1);
      assert.equal(work.items[0]!.owner, 'apollo');
      assert.equal(work.items[0]!.state, 'in_progress');
      assert.equal(work.items[0]!.originThread, 'local:plan');
      assert.equal(work.items[0]!.requestedBy, 'alice');
      assert.match(work.items[0]!.title, /rate limiting/);

      // No mention: the orchestrator's supervisor answers from the ledger.
      fake.enqueue({ toolCalls: [{ name: 'work_in_flight', args: {} }] }, { text: 'One thing in flight: apollo is adding rate limiting.' });
      await postMessage(app.url, 'plan', { text: "what's in flight?", user: 'alice' });
      await waitForMessage(app.url, 'plan', (m) => m.persona === 'pantheon');
      const summaryCall = fake.requests.at(-1)!;
      assert.equal(personaOf(summaryCall), 'pantheon');
      const toolResult = summaryCall.messages.find((m) => m.role === 'tool')!;
      assert.match(toolResult.content, new RegExp(`${work.items[0]!.id}.*apollo.*rate limiting`, 's'));

      // Progress reported from another thread also reaches the thread the work came from.
      const itemId = work.items[0]!.id;
      fake.enqueue(
        { toolCalls: [{ name: 'report_progress', args: { work_item: itemId, text: 'middleware written, tests passing' } }] },
        { toolCalls: [{ name: 'update_work_item', args: { work_item: itemId, state: 'in_review', note: 'PR open' } }] },
        { text: 'Reported.' },
      );
      await postMessage(app.url, 'dev-room', { text: `@apollo report progress on ${itemId}`, user: 'alice' });
      await waitForMessage(app.url, 'dev-room', (m) => m.text === 'Reported.');
      const origin = await getMessages(app.url, 'plan');
      assert.ok(
        origin.some((m) => m.persona === 'apollo' && m.text === `[${itemId}] middleware written, tests passing`),
        JSON.stringify(origin.map((m) => m.text)),
      );
      assert.ok(origin.some((m) => m.persona === 'apollo' && /now in_review \(PR open\)/.test(m.text)));
      const detail = (await (await fetch(`${app.url}/api/work/${itemId}`, { headers: app.auth })).json()) as { item: { state: string }; events: Array<{ kind: string }> };
      assert.equal(detail.item.state, 'in_review');
      assert.ok(detail.events.some((e) => e.kind === 'progress'));
    } finally {
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });

  it('two mentions: each persona answers, in order; messages sent during a run are answered together in the next turn, once', async () => {
    const dir = await tempDir();
    fake.clear();
    const app = await startPantheonProcess({ env: env(), dataDir: dir.path });
    try {
      fake.enqueue({ text: 'apollo: looks fine' }, { text: 'hermes: agreed' });
      await postMessage(app.url, 'pair', { text: '@apollo @hermes is the build green?', user: 'bob' });
      await waitForMessage(app.url, 'pair', (m) => m.persona === 'hermes');
      assert.deepEqual(agentLines(await getMessages(app.url, 'pair')), ['apollo: apollo: looks fine', 'hermes: hermes: agreed']);
      const hermesCall = fake.requests[1]!;
      assert.equal(personaOf(hermesCall), 'hermes');
      assert.deepEqual(
        hermesCall.messages.slice(1).map((m) => [m.role, m.content]),
        [
          ['user', '@apollo @hermes is the build green?'],
          ['user', '[apollo] apollo: looks fine'],
        ],
      );

      fake.clear();
      fake.enqueue({ text: 'slow answer', delayMs: 1500 }, { text: 'answering both' });
      await postMessage(app.url, 'busy', { text: '@apollo take your time', user: 'bob' });
      for (let i = 0; i < 100 && fake.requests.length === 0; i++) await sleep(20);
      await postMessage(app.url, 'busy', { text: '@hermes first while busy', user: 'bob' });
      await postMessage(app.url, 'busy', { text: '@hermes second while busy', user: 'carol' });
      await waitForMessage(app.url, 'busy', (m) => m.text === 'answering both');
      await sleep(500);
      assert.deepEqual(agentLines(await getMessages(app.url, 'busy')), ['apollo: slow answer', 'hermes: answering both']);
      assert.equal(fake.requests.length, 2, 'one run for the two messages that arrived during the first');
      const batched = fake.requests[1]!.messages.filter((m) => m.role === 'user').map((m) => m.content);
      assert.deepEqual(batched.slice(-2), ['@hermes first while busy', '@hermes second while busy']);
    } finally {
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });

  it('two personas handing off to each other stop at the cap with a visible message', async () => {
    const dir = await tempDir();
    await writeFile(join(dir.path, 'pantheon.yaml'), 'orchestrator:\n  maxHandoffsPerHour: 3\n');
    fake.clear();
    fake.setResponder((req) => {
      const me = personaOf(req);
      return { toolCalls: [{ name: 'handoff', args: { to: me === 'apollo' ? 'hermes' : 'apollo', message: 'your turn' } }] };
    });
    const app = await startPantheonProcess({ env: env(), dataDir: join(dir.path, 'data'), cwd: dir.path });
    try {
      await postMessage(app.url, 'loop', { text: '@apollo sort this out with hermes', user: 'bob' });
      const notice = await waitForMessage(app.url, 'loop', (m) => m.role === 'system');
      assert.match(notice.text, /Stopped handing off: this thread reached 3 handoffs in the last hour/);
      await sleep(500);
      assert.equal(fake.requests.length, 4, 'apollo, hermes, apollo, hermes: the fourth handoff is refused');
      assert.deepEqual(fake.requests.map(personaOf), ['apollo', 'hermes', 'apollo', 'hermes']);
    } finally {
      fake.setResponder(undefined);
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });
});
