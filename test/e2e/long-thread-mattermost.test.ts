// test-runner: long
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { startFakeMattermost, type FakeMattermost, type FakePost } from '../fakes/mattermost/index.js';
import { createTestDatabase, postgresSkip } from '../support/postgres.js';
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Issue 16 on Mattermost: a channel bound to athena, one thread of 500 turns (jeff never mentions
 * her: the binding routes), through the real process on Postgres against the fake Mattermost.
 * What athena's model is sent per turn stops growing, the turn-1 fact is answered at turn 500, a
 * restart at turn 250 loses neither the summary nor the thread, and the thread's checkpoint rows
 * stay bounded (the latest only) all along.
 */
describe('a Mattermost channel bound to a persona that lives for months', { skip: postgresSkip }, () => {
  let llm: FakeLLM;
  let mm: FakeMattermost;
  before(async () => {
    llm = await startFakeLLM();
    llm.setResponder(longThreadResponder);
    mm = await startFakeMattermost();
  });
  after(async () => {
    await mm.close();
    await llm.close();
  });

  it(`${TURNS} turns in athena's channel: flat requests, the first fact answered at the end across a restart, bounded checkpoints`, { timeout: 900_000 }, async () => {
    const athena = mm.addBot('athena');
    mm.addHuman('jeff');
    mm.addChannel('planning', { members: ['athena', 'jeff'] });
    const dir = await tempDir('pantheon-long-mattermost-');
    const db = await createTestDatabase('long_mattermost');
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    await mkdir(join(dir.path, 'personas'));
    await writeFile(
      join(dir.path, 'personas', 'athena.yaml'),
      ['id: athena', 'name: Athena', 'role: pm', 'description: Product manager.', 'tools: []', 'prompt: I plan the work.', 'handles:', '  mattermost: { token: "${ATHENA_MM_TOKEN}" }'].join('\n'),
    );
    await writeFile(
      join(dir.path, 'pantheon.yaml'),
      [
        'models: { default: "openai:gpt-4.1-mini" }',
        ...CONTEXT_CONFIG,
        'humans:',
        '  - { id: jeff, mattermost: jeff }',
        'bindings:',
        '  - { channel: "mattermost:planning", persona: athena }',
        'channels:',
        `  mattermost: { url: "${mm.url}", pingIntervalSeconds: 0.25 }`,
      ].join('\n'),
    );
    const env = modelEnv(llm, { ATHENA_MM_TOKEN: athena.token, DATABASE_URL: db.url });
    const start = async () => {
      const running = await startPantheonProcess({ env, dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 90_000 });
      await mm.waitFor(() => mm.sockets('athena') === 1, 20_000, "athena's socket");
      return running;
    };
    let app: RunningPantheon = await start();
    let root: FakePost | undefined;
    const replies = () => (root ? mm.thread(root.id).filter((p) => p.user_id === athena.id) : []);
    const say = (message: string): Promise<FakePost> => clock.time(() => sendAndWait(message));
    const sendAndWait = async (message: string): Promise<FakePost> => {
      const before = replies().length;
      if (!root) root = mm.post({ user: 'jeff', channel: 'planning', message });
      else mm.post({ user: 'jeff', channel: 'planning', rootId: root.id, message });
      const deadline = Date.now() + 20_000;
      for (;;) {
        const now = replies();
        if (now.length > before) return now[before]!;
        if (Date.now() > deadline) throw new Error(`athena did not answer "${message.slice(0, 40)}"\n${app.stderr().slice(-3000)}`);
        await sleep(2);
      }
    };
    const threadId = () => `mattermost:${mm.world.mustChannel('planning').id}:${root!.id}`;
    const checkpoints = async () => {
      // The answer is posted before the drain ends; the drain's end prunes.
      for (let t = 0; ; t++) {
        const { rows } = await pool.query<{ n: number; bytes: number }>(
          `SELECT count(*)::int AS n, coalesce(max(octet_length(checkpoint)), 0)::int AS bytes FROM graph_checkpoints WHERE thread_id = $1`,
          [threadId()],
        );
        if (rows[0]!.n <= 1 || t >= 100) {
          sizes.push(rows[0]!.bytes);
          return rows[0]!.n;
        }
        await sleep(20);
      }
    };
    /** The latest checkpoint's size every 50 turns: it holds the window models are sent, not the thread. */
    const sizes: number[] = [];
    const started = Date.now();
    const clock = turnClock();
    const rows: number[] = [];
    try {
      assert.match((await say(FACT)).message, /^Noted/);
      for (let i = 2; i < TURNS; i++) {
        await say(chatter(i));
        if (i % 50 === 0) rows.push(await checkpoints());
        if (i === RESTART_AFTER) {
          assert.equal(await app.stop(), 0);
          app = await start();
        }
      }
      const answer = await say(QUESTION);
      assert.equal(answer.message, ANSWER, 'the turn-1 fact is answered at turn 500');
      assert.equal(replies().length, TURNS, 'one answer per message, in the thread: nothing lost or repeated across the restart');
      assert.deepEqual(rows, Array(9).fill(1), 'one checkpoint row for the thread (the latest) every 50 turns');
      // The checkpoint (saved at every step) does not grow with the thread: the messages that
      // left the window are in the transcript archive, in order, once each.
      assert.ok(Math.max(...sizes.slice(2)) <= 1.5 * sizes[1]!, `checkpoint bytes every 50 turns stay near turn 100's: ${sizes.join(', ')}`);
      const { rows: archived } = await pool.query<{ n: number; last: number; messages: string[] }>(
        `SELECT count(*)::int AS n, max(seq)::int AS last, array_agg(message->>'content' ORDER BY seq) FILTER (WHERE seq < 2) AS messages FROM transcript_archive WHERE thread_id = $1`,
        [threadId()],
      );
      assert.ok(archived[0]!.n > 2 * TURNS - 100, `most of the thread is archived (${archived[0]!.n} of ${2 * TURNS} messages)`);
      assert.equal(archived[0]!.last, archived[0]!.n - 1, 'archived at places 0, 1, 2... with no gap or repeat');
      assert.equal(archived[0]!.messages[0], FACT, "the thread's first message is the archive's first");
      assert.match(archived[0]!.messages[1]!, /^Noted/);
      assertBoundedThread(llm.requests.filter(isThreadRequest), llm.requests.filter(isSummaryRequest));
      console.log(clock.report('Mattermost', Date.now() - started));
    } finally {
      assert.equal(await app.stop(), 0);
      await pool.end();
      await db.drop();
      await dir.remove();
    }
  });
});
