// test-runner: long
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { startFakeTelegram, type FakeTelegram, type FakeUser, type SentMessage } from '../fakes/telegram/index.js';
import { modelEnv, startPantheonProcess, tempDir, type RunningPantheon } from '../support/pantheon-process.js';
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

const TOKEN = '7000002:AAH-fake-telegram-token-long-thread';
const jeff: FakeUser = { id: 111, first_name: 'Jeff', username: 'jeff' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Issue 16 on Telegram: jeff's private chat with the orchestrator is one thread that never ends.
 * 500 turns through the real process, real grammY long polling against the fake Bot API and the
 * orchestrator's supervisor answering (its model is sent the thread's summary and recent window):
 * what it is sent per turn stops growing, the turn-1 fact is answered at turn 500, and a restart
 * at turn 250 loses neither the summary nor the thread.
 */
describe('a Telegram chat with the orchestrator that lives for months', () => {
  let llm: FakeLLM;
  let tg: FakeTelegram;
  before(async () => {
    llm = await startFakeLLM();
    llm.setResponder(longThreadResponder);
    tg = await startFakeTelegram({ token: TOKEN });
  });
  after(async () => {
    await tg.close();
    await llm.close();
  });

  it(`${TURNS} turns with the orchestrator: flat requests, the first fact answered at the end across a restart`, { timeout: 900_000 }, async () => {
    const dir = await tempDir('pantheon-long-telegram-');
    await writeFile(
      join(dir.path, 'pantheon.yaml'),
      [
        ...CONTEXT_CONFIG,
        'humans:',
        '  - { id: jeff, telegram: 111 }',
        'channels:',
        '  telegram:',
        '    token: "${TELEGRAM_BOT_TOKEN}"',
        `    apiRoot: ${tg.apiRoot}`,
        '    allowedChatIds: [111]',
        // Telegram's published pace (one post per second in a chat) would make 500 turns 500 s of waiting; the fake Bot API has no flood limit.
        'outbox: { rateLimits: { telegram: { perThread: 1000, burst: 1000 } } }',
      ].join('\n'),
    );
    const start = () => startPantheonProcess({ env: modelEnv(llm, { TELEGRAM_BOT_TOKEN: TOKEN }), dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 90_000 });
    let app: RunningPantheon = await start();
    const answers = () => tg.sent.filter((m) => m.chat_id === jeff.id);
    const say = (text: string): Promise<SentMessage> => clock.time(() => sendAndWait(text));
    const sendAndWait = async (text: string): Promise<SentMessage> => {
      const before = answers().length;
      tg.sendText({ from: jeff, text });
      const deadline = Date.now() + 20_000;
      for (;;) {
        const now = answers();
        if (now.length > before) return now[before]!;
        if (Date.now() > deadline) throw new Error(`no answer to "${text.slice(0, 40)}"\n${app.stderr().slice(-3000)}`);
        await sleep(2);
      }
    };
    const started = Date.now();
    const clock = turnClock();
    try {
      assert.match((await say(FACT)).visible, /^Pantheon: Noted/, 'the orchestrator answers, labelled');
      for (let i = 2; i < TURNS; i++) {
        await say(chatter(i));
        if (i === RESTART_AFTER) {
          assert.equal(await app.stop(), 0);
          app = await start();
        }
      }
      const answer = await say(QUESTION);
      assert.equal(answer.visible, `Pantheon: ${ANSWER}`, 'the turn-1 fact is answered at turn 500');
      assert.equal(answers().length, TURNS, 'one answer per message: nothing lost or repeated across the restart');
      const requests = llm.requests.filter(isThreadRequest);
      assert.ok(
        requests.every((r) => /You are Pantheon/.test(r.messages[0]?.content ?? '')),
        'every turn is the orchestrator’s',
      );
      assertBoundedThread(requests, llm.requests.filter(isSummaryRequest));
      console.log(clock.report('Telegram', Date.now() - started));
    } finally {
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });
});
