import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM, type FakeLLMRequest } from '../fakes/llm/index.js';
import { getMessages, modelEnv, postMessage, startPantheonProcess, tempDir, waitForMessage, type RunningPantheon } from '../support/pantheon-process.js';

/**
 * Issue 16, end to end: a thread of 200 turns in the local chat of the real process, with a small
 * history budget so it is quick. What the persona's model is sent per turn stops growing once the
 * budget is reached; a fact said in turn 1 is still sent at the end (through the rolling summary,
 * which the scripted summary model writes by keeping every FACT line); a restart in the middle
 * loses neither the summary nor the thread; after /new the next request carries none of it.
 */
const isSummaryRequest = (r: FakeLLMRequest) => /running summary of a long chat thread/.test(r.messages[0]?.content ?? '');
const chars = (r: FakeLLMRequest) => r.messages.reduce((n, m) => n + m.content.length, 0);

describe('a thread that lives for months, through the real process', () => {
  let llm: FakeLLM;
  before(async () => {
    llm = await startFakeLLM();
    llm.setResponder((req) => {
      if (isSummaryRequest(req)) return { text: [...new Set(req.messages.at(-1)!.content.match(/FACT[^\n<]*/g) ?? [])].join('\n') || 'Small talk only.' };
      return { text: `Noted, ${req.messages.filter((m) => m.role === 'user').length} messages in view.` };
    });
  });
  after(async () => {
    await llm.close();
  });

  it('200 turns: flat requests, the first fact kept across a restart, and /new', { timeout: 600_000 }, async () => {
    const dir = await tempDir('pantheon-long-thread-');
    await mkdir(join(dir.path, 'personas'));
    await writeFile(join(dir.path, 'personas', 'apollo.yaml'), 'id: apollo\nname: Apollo\nrole: developer\ndescription: Developer.\ntools: []\nprompt: I write code.\n');
    await writeFile(
      join(dir.path, 'pantheon.yaml'),
      ['models: { default: "openai:gpt-4.1-mini" }', 'orchestrator:', '  context: { historyTokens: 1000, summaryTokens: 200 }', 'humans:', '  - { id: jeff, local: jeff }'].join('\n'),
    );
    const start = () => startPantheonProcess({ env: modelEnv(llm), dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 90_000 });
    let app: RunningPantheon = await start();
    const room = 'long-thread';
    let answered = 0;
    const say = async (text: string) => {
      await postMessage(app.url, room, { text, user: 'jeff' });
      answered += 1;
      const n = answered;
      const deadline = Date.now() + 20_000;
      for (;;) {
        const agent = (await getMessages(app.url, room)).filter((m) => m.role !== 'user');
        if (agent.length >= n) return agent.at(-1)!;
        if (Date.now() > deadline) throw new Error(`no answer to turn ${n}\n${app.stderr().slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const personaRequests = () => llm.requests.filter((r) => r.wire === 'openai' && !isSummaryRequest(r));
    try {
      await say('@apollo FACT: the staging database is db-7, and Maria owns it.');
      for (let i = 2; i <= 200; i++) {
        await say(`@apollo turn ${i}: ${'we went over the rollout plan once more. '.repeat(3)}`);
        if (i === 100) {
          // A restart in the middle: the summary and the thread are in the checkpointed state.
          assert.equal(await app.stop(), 0);
          app = await start();
        }
      }
      const sent = personaRequests();
      assert.equal(sent.length, 200, 'one model call per turn');
      const sizes = sent.map(chars);
      const settled = Math.max(...sizes.slice(40, 60));
      const late = Math.max(...sizes.slice(150));
      assert.ok(late <= settled * 1.2, `turn 150-200 sends at most 1.2x what turns 40-60 sent (${late} vs ${settled} characters)`);
      assert.ok(sizes[199]! < sizes.slice(0, 200).reduce((a, b) => a + b, 0) / 20, 'far less than the whole thread');
      const last = sent.at(-1)!;
      const summary = last.messages.find((m) => m.content.includes('<thread-summary>'));
      assert.ok(summary, 'the summary is sent');
      assert.equal(summary.role, 'user', 'quoted as a user message, never as system text');
      assert.match(summary.content, /FACT: the staging database is db-7, and Maria owns it\./);
      assert.doesNotMatch(last.messages.map((m) => m.content).join('\n'), /turn 2:/);
      const afterRestart = sent[100]!;
      assert.match(afterRestart.messages.map((m) => m.content).join('\n'), /<thread-summary>\nFACT: the staging database is db-7/, 'the first request after the restart has the summary');
      const summaries = llm.requests.filter(isSummaryRequest);
      assert.ok(summaries.length > 5 && summaries.length < 100, `compaction runs every few turns (${summaries.length} for 200 turns)`);
      assert.ok(Math.max(...summaries.map(chars)) < 8000, 'each summary request is the previous summary and a bounded slice');

      // /new: the history stays in the chat; the next request carries none of it.
      const before = (await getMessages(app.url, room)).length;
      await postMessage(app.url, room, { text: '/new', user: 'jeff' });
      const told = await waitForMessage(app.url, room, (m) => m.role === 'system' && /Fresh context/.test(m.text), 20_000);
      assert.match(told.text, /^Fresh context: the team will not be sent the 400 earlier messages of this thread \(they stay in its history\)\.$/);
      answered += 1;
      await say('@apollo what do we know?');
      const fresh = personaRequests().at(-1)!;
      assert.deepEqual(
        fresh.messages.map((m) => m.role),
        ['system', 'user'],
      );
      assert.match(fresh.messages[1]!.content, /what do we know\?/);
      assert.doesNotMatch(fresh.messages.map((m) => m.content).join('\n'), /db-7|thread-summary|turn 199/);
      assert.ok((await getMessages(app.url, room)).length > before, 'the chat keeps its history');
      const reset = await postMessage(app.url, room, { text: '/reset', user: 'jeff' });
      assert.equal(reset.status, 202);
      await waitForMessage(app.url, room, (m) => m.role === 'system' && /Fresh context: the team will not be sent the 2 earlier messages/.test(m.text), 20_000);
    } finally {
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });
});
