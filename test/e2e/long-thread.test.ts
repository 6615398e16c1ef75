// test-runner: long
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { getMessages, modelEnv, postMessage, startPantheonProcess, tempDir, waitForMessage, type ApiMessage, type RunningPantheon } from '../support/pantheon-process.js';
import {
  ANSWER,
  assertBoundedThread,
  chatter,
  CONTEXT_CONFIG,
  FACT,
  isSummaryRequest,
  isThreadRequest,
  longThreadResponder,
  QUESTION,
  RESTART_AFTER,
  TURNS,
  turnClock,
} from '../support/long-thread.js';

/**
 * Issue 16, end to end: a thread of 500 turns in the local chat of the real process, with a small
 * history budget. What the persona's model is sent per turn stops growing once the budget is
 * reached; the fact said in turn 1 is answered at turn 500 (through the rolling summary); a
 * restart at turn 250 loses neither the summary nor the thread; after /new the next request
 * carries none of it. Answers are read from the chat's event stream, as the console does.
 */
describe('a thread that lives for months, through the real process', () => {
  let llm: FakeLLM;
  before(async () => {
    llm = await startFakeLLM();
    llm.setResponder(longThreadResponder);
  });
  after(async () => {
    await llm.close();
  });

  it(`${TURNS} turns: flat requests, the first fact answered at the end across a restart, and /new`, { timeout: 900_000 }, async () => {
    const dir = await tempDir('pantheon-long-thread-');
    await mkdir(join(dir.path, 'personas'));
    await writeFile(join(dir.path, 'personas', 'apollo.yaml'), 'id: apollo\nname: Apollo\nrole: developer\ndescription: Developer.\ntools: []\nprompt: I write code.\n');
    await writeFile(join(dir.path, 'pantheon.yaml'), ['models: { default: "openai:gpt-4.1-mini" }', ...CONTEXT_CONFIG, 'humans:', '  - { id: jeff, local: jeff }'].join('\n'));
    const start = () => startPantheonProcess({ env: modelEnv(llm), dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 90_000 });
    const room = 'long-thread';
    let app: RunningPantheon = await start();
    let stream = await openStream(app, room);
    const say = (text: string): Promise<ApiMessage> =>
      clock.time(async () => {
        await postMessage(app.url, room, { text, user: 'jeff' });
        return stream.next(
          (m) => m.role !== 'user',
          20_000,
          () => app.stderr().slice(-3000),
        );
      });
    const started = Date.now();
    const clock = turnClock();
    try {
      assert.equal((await say(`@apollo ${FACT}`)).persona, 'apollo');
      for (let i = 2; i < TURNS; i++) {
        await say(`@apollo ${chatter(i)}`);
        if (i === RESTART_AFTER) {
          // A restart in the middle: the summary and the thread are in the checkpointed state.
          stream.close();
          assert.equal(await app.stop(), 0);
          app = await start();
          stream = await openStream(app, room);
        }
      }
      const answer = await say(`@apollo ${QUESTION}`);
      assert.equal(answer.text, ANSWER, 'the turn-1 fact is answered at turn 500');
      assertBoundedThread(llm.requests.filter(isThreadRequest), llm.requests.filter(isSummaryRequest));
      assert.equal((await getMessages(app.url, room)).length, 2 * TURNS, 'the chat keeps the whole thread');
      console.log(clock.report('local chat', Date.now() - started));

      // /new: the history stays in the chat; the next request carries none of it.
      await postMessage(app.url, room, { text: '/new', user: 'jeff' });
      const told = await stream.next(
        (m) => m.role === 'system',
        20_000,
        () => app.stderr().slice(-3000),
      );
      assert.equal(told.text, `Fresh context: the team will not be sent the ${2 * TURNS} earlier messages of this thread (they stay in its history).`);
      const fresh = await say(`@apollo ${QUESTION}`);
      assert.equal(fresh.text, 'I do not know which database is staging.', 'after /new the fact is no longer sent');
      const request = llm.requests.filter(isThreadRequest).at(-1)!;
      assert.deepEqual(
        request.messages.map((m) => m.role),
        ['system', 'user'],
      );
      assert.doesNotMatch(request.messages.map((m) => m.content).join('\n'), /db-7|thread-summary|turn 499/);
      const reset = await postMessage(app.url, room, { text: '/reset', user: 'jeff' });
      assert.equal(reset.status, 202);
      await waitForMessage(app.url, room, (m) => m.role === 'system' && /Fresh context: the team will not be sent the 2 earlier messages/.test(m.text), 20_000);
    } finally {
      stream.close();
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });
});

/** The conversation's server-sent events: `next` answers the next message (after those already taken) that matches. */
async function openStream(app: RunningPantheon, conversation: string) {
  const abort = new AbortController();
  const res = await fetch(`${app.url}/api/chat/${conversation}/stream`, { headers: app.auth, signal: abort.signal });
  assert.equal(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const seen: ApiMessage[] = [];
  let buffer = '';
  let ended = false;
  const waiters = new Set<() => void>();
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let i: number;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const data = buffer
            .slice(0, i)
            .split('\n')
            .find((l) => l.startsWith('data: '));
          buffer = buffer.slice(i + 2);
          if (data) seen.push(JSON.parse(data.slice(6)) as ApiMessage);
        }
        for (const wake of waiters) wake();
      }
    } catch {
      // closed
    }
    ended = true;
    for (const wake of waiters) wake();
  })();
  let taken = 0;
  return {
    async next(match: (m: ApiMessage) => boolean, timeoutMs: number, context: () => string): Promise<ApiMessage> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        while (taken < seen.length) {
          const m = seen[taken++]!;
          if (match(m)) return m;
        }
        if (ended) throw new Error(`the stream of ${conversation} ended\n${context()}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching message in ${conversation} within ${timeoutMs} ms\n${context()}`);
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(wake, left);
          waiters.add(wake);
        });
      }
    },
    close: () => abort.abort(),
  };
}
