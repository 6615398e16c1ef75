import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { migratedDataDir } from '../support/seed-data-dir.js';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { getMessages, modelEnv, runCli, startPantheonProcess, tempDir, waitForMessage, type ApiMessage, type RunningPantheon } from '../support/pantheon-process.js';

/**
 * `schedules:` end to end, on the real process under a controlled clock (PANTHEON_TEST_CLOCK):
 * a weekday 09:00 Europe/Berlin stand-up fires at that minute and athena posts it in its thread;
 * after downtime the missed occurrence runs once (or is skipped, per `missed:`); `pantheon
 * schedules` lists next run and last result (a turn's: once it has ended); `pantheon schedules
 * run stand-up` posts it now; a turn whose model fails is a failed run, posted once.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PROMPT = 'Post the stand-up: what is in flight, what is blocked, what waits for whom.';

interface RunView {
  occurrence: string;
  trigger: string;
  status: string;
  detail: string | null;
}
interface View {
  name: string;
  nextRun: string | null;
  failing: boolean;
  lastRun: RunView | null;
}

describe('schedules: cron in a time zone, missed occurrences, run now', () => {
  let llm: FakeLLM;
  let dir: { path: string; remove: () => Promise<void> };
  let app: RunningPantheon | undefined;
  let standUps = 0;
  /** athena's model answers the stand-up with a server error. */
  let modelDown = false;
  const dataDir = () => join(dir.path, 'data');
  const env = (clock: string) => modelEnv(llm, { PANTHEON_TEST_CLOCK: clock });
  const athenaPosts = async (conversation: string): Promise<ApiMessage[]> => (await getMessages(app!.url, conversation)).filter((m) => m.role === 'agent' && m.persona === 'athena');
  const views = async (clock: string): Promise<View[]> => {
    const r = await runCli(['schedules', '--json', '--data-dir', dataDir()], { env: env(clock), cwd: dir.path });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as View);
  };
  /** The schedules once `name`'s last run has ended (a persona turn runs until its answer). */
  const settled = async (clock: string, name: string, occurrence?: string): Promise<View[]> => {
    const end = Date.now() + 30_000;
    for (;;) {
      const list = await views(clock);
      const run = list.find((v) => v.name === name)?.lastRun;
      if ((run && run.status !== 'running' && (!occurrence || run.occurrence !== occurrence)) || Date.now() > end) return list;
      await sleep(250);
    }
  };

  before(async () => {
    llm = await startFakeLLM();
    llm.setResponder((req) => {
      const asked = JSON.stringify(req.messages);
      if (asked.includes('Post the stand-up') && modelDown) return { status: 500, error: 'upstream exploded' };
      return { text: asked.includes('Post the stand-up') ? `Stand-up ${++standUps}: apollo has W-1 in review; nothing blocked; jeff owes a decision on the rate limit.` : 'ok' };
    });
    dir = await tempDir('pantheon-schedules-');
    await mkdir(join(dir.path, 'personas'));
    await writeFile(
      join(dir.path, 'pantheon.yaml'),
      [
        'schedules:',
        '  - name: stand-up',
        '    cron: "0 9 * * 1-5"',
        '    timezone: Europe/Berlin',
        '    persona: athena',
        '    thread: "local:standup"',
        `    prompt: "${PROMPT}"`,
        '  - name: retro-notes',
        '    cron: "0 9 * * 1-5"',
        '    timezone: Europe/Berlin',
        '    persona: athena',
        '    thread: "local:retro"',
        '    prompt: "Post the retro notes."',
        '    missed: skip',
      ].join('\n'),
    );
    // The embedded database is made here, so the server's start (and the clock's run to 09:00) is short.
    await migratedDataDir(dataDir());
  });

  after(async () => {
    if (app && app.child.exitCode === null) await app.stop();
    await llm?.close();
    await dir?.remove();
  });

  it('fires at 09:00 Europe/Berlin (08:00Z in March), not before; athena posts the stand-up in local:standup', { timeout: 240_000 }, async () => {
    // Monday 2 March 2026, 09:00 in Berlin is 60 s of real time after the start (a busy machine starts slowly).
    const dueAtMs = Date.now() + 60_000;
    app = await startPantheonProcess({ env: env(`2026-03-02T08:00:00Z@${dueAtMs}`), dataDir: dataDir(), cwd: dir.path });
    assert.ok(Date.now() < dueAtMs - 2000, 'the server got ready before the stand-up was due');
    while (Date.now() < dueAtMs - 1500) {
      assert.deepEqual(await athenaPosts('standup'), [], 'nothing before 09:00');
      await sleep(500);
    }
    const post = await waitForMessage(app.url, 'standup', (m) => m.persona === 'athena' && m.text.startsWith('Stand-up'), 60_000);
    const lateMs = Date.parse(post.createdAt) - dueAtMs;
    assert.ok(lateMs >= 0 && lateMs < 30_000, `posted ${lateMs} ms after 09:00`);
    console.log(JSON.stringify({ standUpPostedMsAfterNine: lateMs }));
    assert.match(post.text, /^Stand-up 1: apollo has W-1 in review/);
    const asked = llm.requests.find((r) => JSON.stringify(r.messages).includes(PROMPT));
    assert.ok(asked, "athena's model got the stand-up prompt");
    await waitForMessage(app.url, 'retro', (m) => m.persona === 'athena');

    const [standUp] = await settled('2026-03-02T08:01:00Z', 'stand-up');
    assert.equal(standUp!.name, 'stand-up');
    const { occurrence, trigger, status, detail } = standUp!.lastRun!;
    assert.deepEqual({ occurrence, trigger, status, detail }, { occurrence: '2026-03-02T08:00:00.000Z', trigger: 'cron', status: 'ok', detail: 'athena answered in local:standup' });
    assert.equal(standUp!.nextRun, '2026-03-03T08:00:00.000Z', 'next: Tuesday 09:00 Berlin');
    await sleep(2000);
    assert.equal((await athenaPosts('standup')).length, 1, 'one occurrence, one stand-up');
  });

  it('after downtime (Monday to Thursday) the missed stand-up runs once at start; missed: skip records the occurrence and posts nothing', { timeout: 240_000 }, async () => {
    assert.equal(await app!.stop(), 0);
    // Thursday 5 March, 09:05 Berlin: Tuesday's, Wednesday's and Thursday's occurrences fell in the downtime.
    app = await startPantheonProcess({ env: env('2026-03-05T08:05:00Z'), dataDir: dataDir(), cwd: dir.path });
    const post = await waitForMessage(app.url, 'standup', (m) => m.persona === 'athena' && m.text.startsWith('Stand-up 2'), 60_000);
    assert.ok(post);
    await sleep(3000);
    assert.equal((await athenaPosts('standup')).length, 2, 'the three missed occurrences ran once');
    assert.equal((await athenaPosts('retro')).length, 1, 'the skipped schedule posted nothing after the downtime');
    const [standUp, retro] = await settled('2026-03-05T08:06:00Z', 'stand-up');
    assert.equal(standUp!.lastRun!.occurrence, '2026-03-05T08:00:00.000Z');
    assert.equal(standUp!.lastRun!.trigger, 'missed');
    assert.equal(standUp!.lastRun!.status, 'ok');
    assert.equal(retro!.lastRun!.status, 'skipped');
    assert.match(retro!.lastRun!.detail!, /^3 occurrences were missed while no replica ran.*skipped \(missed: skip\)$/);
    assert.equal(standUp!.nextRun, '2026-03-06T08:00:00.000Z');
  });

  it('`pantheon schedules` lists next run and last result; `pantheon schedules run stand-up` posts the stand-up now', { timeout: 180_000 }, async () => {
    const list = await runCli(['schedules', '--data-dir', dataDir()], { env: env('2026-03-05T08:06:00Z'), cwd: dir.path });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^NAME\s+KIND\s+WHEN\s+THREAD\s+NEXT RUN\s+LAST RESULT$/m);
    assert.match(
      list.stdout,
      /^stand-up\s+turn \(athena\)\s+0 9 \* \* 1-5\s+local:standup\s+2026-03-06 09:00 Europe\/Berlin\s+ok \(missed\) at 2026-03-05 09:0\d Europe\/Berlin: athena answered in local:standup$/m,
    );
    assert.match(list.stdout, /^retro-notes\s.*\sskipped \(missed\) at .*: 3 occurrences were missed/m);

    const run = await runCli(['schedules', 'run', 'stand-up', '--data-dir', dataDir()], { env: env('2026-03-05T08:06:00Z'), cwd: dir.path });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'stand-up: running: asked athena in local:standup; waiting for the answer\n', 'a turn answers once it is asked');
    await waitForMessage(app!.url, 'standup', (m) => m.persona === 'athena' && m.text.startsWith('Stand-up 3'), 60_000);
    const [ran] = await settled('2026-03-05T08:06:00Z', 'stand-up');
    assert.equal(ran!.lastRun!.trigger, 'manual');
    assert.equal(ran!.lastRun!.status, 'ok');

    const unknown = await runCli(['schedules', 'run', 'stand-down', '--data-dir', dataDir()], { env: env('2026-03-05T08:06:00Z'), cwd: dir.path });
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'pantheon: no schedule "stand-down"; schedules: stand-up, retro-notes\n');

    const anonymous = await fetch(`${app!.url}/api/schedules`);
    assert.equal(anonymous.status, 401, 'the API needs the token');
    const viaApi = (await (await fetch(`${app!.url}/api/schedules`, { headers: app!.auth })).json()) as { schedules: View[] };
    assert.deepEqual(
      viaApi.schedules.map((s) => [s.name, s.lastRun?.trigger]),
      [
        ['stand-up', 'manual'],
        ['retro-notes', 'missed'],
      ],
    );
  });
  it('a turn whose model fails is a failed run: posted once, shown failed; failing again stays quiet; the next good turn says it recovered', { timeout: 180_000 }, async () => {
    const clock = '2026-03-05T08:07:00Z';
    const warnings = async () => (await getMessages(app!.url, 'standup')).filter((m) => m.role === 'system' && m.text.startsWith('⚠️'));
    modelDown = true;
    const first = await runCli(['schedules', 'run', 'stand-up', '--data-dir', dataDir()], { env: env(clock), cwd: dir.path });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'stand-up: running: asked athena in local:standup; waiting for the answer\n');
    const warning = await waitForMessage(app!.url, 'standup', (m) => m.role === 'system' && m.text.startsWith('⚠️'), 60_000);
    assert.match(warning.text, /^⚠️ Schedule stand-up failed: Athena could not answer: \S+ had a server error \(500\)[^\n]* \(reported once, until it runs well again\)$/);
    assert.ok(!warning.text.includes('upstream exploded'), "the chat is told which model failed and how, not the server's words");
    const [failed] = await settled(clock, 'stand-up');
    assert.equal(failed!.lastRun!.status, 'failed');
    assert.equal(failed!.lastRun!.trigger, 'manual');
    assert.match(failed!.lastRun!.detail!, /^Athena could not answer: \S+ had a server error \(500\)/);
    assert.equal(failed!.failing, true);
    const table = await runCli(['schedules', '--data-dir', dataDir()], { env: env(clock), cwd: dir.path });
    assert.match(table.stdout, /^stand-up\s.*\sFAILING: failed \(manual\) at 2026-03-05 09:\d\d Europe\/Berlin: Athena could not answer: /m);

    // Failing again: recorded, not posted again.
    await runCli(['schedules', 'run', 'stand-up', '--data-dir', dataDir()], { env: env(clock), cwd: dir.path });
    const [again] = await settled(clock, 'stand-up', failed!.lastRun!.occurrence);
    assert.notEqual(again!.lastRun!.occurrence, failed!.lastRun!.occurrence);
    assert.equal(again!.lastRun!.status, 'failed');
    await sleep(1000);
    assert.equal((await warnings()).length, 1, 'the second failure is not posted');

    modelDown = false;
    await runCli(['schedules', 'run', 'stand-up', '--data-dir', dataDir()], { env: env(clock), cwd: dir.path });
    const back = await waitForMessage(app!.url, 'standup', (m) => m.role === 'system' && m.text.startsWith('✅'), 60_000);
    assert.equal(back.text, '✅ Schedule stand-up runs well again: athena answered in local:standup');
    const [ok] = await settled(clock, 'stand-up', again!.lastRun!.occurrence);
    assert.equal(ok!.lastRun!.status, 'ok');
    assert.equal(ok!.failing, false);
    assert.equal((await warnings()).length, 1);
  });
});
