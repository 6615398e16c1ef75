import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { migratedDataDir } from '../support/seed-data-dir.js';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { getMessages, modelEnv, runCli, startPantheonProcess, tempDir, waitForMessage, type ApiMessage, type RunningPantheon } from '../support/pantheon-process.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

/**
 * A runbook on a schedule, end to end: the real process under a controlled clock
 * (PANTHEON_TEST_CLOCK), a real OpenSSH server as the host. At 09:00 Europe/Berlin (and each
 * minute to 09:02) the `sync` runbook runs its steps on app-1 (they write a file there), and the
 * schedule's thread shows each step; a failing step stops it and is posted once; a later good run
 * says it recovered; a step the host's policy refuses stops a runbook before any step runs;
 * `pantheon schedules` shows the result and the next run, `pantheon schedules run` runs it now.
 * A secret the steps print never reaches the thread.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SECRET = 'tok-5f2a9c81e7d4b3e6';
const ONCE = '(reported once, until it runs well again)';

interface View {
  name: string;
  kind: string;
  nextRun: string | null;
  failing: boolean;
  lastRun: { occurrence: string; trigger: string; status: string; detail: string | null } | null;
}

describe('schedules: a runbook by cron, on a real SSH host', () => {
  let llm: FakeLLM;
  let sshd: TestSshd;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: RunningPantheon | undefined;
  let hostDir: string;
  let dueAtMs: number;
  const dataDir = () => join(dir.path, 'data');
  const env = () => modelEnv(llm, { PANTHEON_TEST_CLOCK: `2026-03-02T08:00:00Z@${dueAtMs}`, SYNC_TOKEN: SECRET });
  /** What the steps did on app-1. */
  const ranOnHost = () => (existsSync(join(hostDir, 'ran.log')) ? readFileSync(join(hostDir, 'ran.log'), 'utf8') : '');
  const thread = (conversation: string): Promise<ApiMessage[]> => getMessages(app!.url, conversation);
  const views = async (): Promise<Map<string, View>> => {
    const r = await runCli(['schedules', '--json', '--data-dir', dataDir()], { env: env(), cwd: dir.path });
    assert.equal(r.code, 0, r.stderr);
    const list = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as View);
    return new Map(list.map((v) => [v.name, v]));
  };
  const lastRun = (v: View | undefined) => {
    const { occurrence, trigger, status, detail } = v!.lastRun!;
    return { occurrence, trigger, status, detail, failing: v!.failing, nextRun: v!.nextRun };
  };
  const okReport = ['Runbook sync (scheduled):', '1. push on app-1: ok (pushed with [REDACTED])', '2. verify on app-1: ok (verified)', '3. report on app-1: ok'].join('\n');

  before(async () => {
    llm = await startFakeLLM();
    dir = await tempDir('pantheon-schedules-runbook-');
    hostDir = join(dir.path, 'host');
    mkdirSync(join(hostDir, 'cache'), { recursive: true });
    writeFileSync(join(hostDir, 'cache', 'keep'), 'cached\n');
    sshd = await startSshd();
    const step = (name: string, run: string) => `        - { name: ${name}, run: ${JSON.stringify(run)} }`;
    writeFileSync(
      join(dir.path, 'pantheon.yaml'),
      [
        'infra:',
        `  knownHosts: ${sshd.knownHosts}`,
        '  hosts:',
        `    - { name: app-1, address: 127.0.0.1, port: ${sshd.port}, user: ${sshd.user}, privateKey: ${sshd.clientKey}, policy: { deny: ["rm -rf *"] } }`,
        '  runbooks:',
        '    - name: sync',
        '      host: app-1',
        '      steps:',
        // The token reaches the host (config substitution) and comes back in the output.
        step('push', `echo pushed >> ${hostDir}/ran.log && echo "pushed with \${SYNC_TOKEN}"`),
        step('verify', `if [ -e ${hostDir}/broken ]; then echo "disk full on /data (token \${SYNC_TOKEN})" >&2; exit 3; fi; echo verified >> ${hostDir}/ran.log; echo verified`),
        step('report', `echo reported >> ${hostDir}/ran.log`),
        '    - name: clear-cache',
        '      host: app-1',
        '      steps:',
        step('note', `echo note >> ${hostDir}/cache.log`),
        step('wipe', `rm -rf ${hostDir}/cache`),
        step('after', `echo after >> ${hostDir}/cache.log`),
        'schedules:',
        '  - { name: morning-sync, cron: "0-2 9 * * 1-5", timezone: Europe/Berlin, thread: "local:ops", runbook: sync }',
        '  - { name: cache-sweep, cron: "0 9 * * 1-5", timezone: Europe/Berlin, thread: "local:cache", runbook: clear-cache }',
      ].join('\n'),
    );
    // The embedded database is made here, so the server's start (and the clock's run to 09:00) is short.
    await migratedDataDir(dataDir());
  });

  after(async () => {
    if (app && app.child.exitCode === null) assert.equal(await app.stop(), 0, app.stderr());
    await sshd?.stop();
    await llm?.close();
    await dir?.remove();
  });

  it('fires at 09:00 Europe/Berlin (08:00Z), not before: its steps run on app-1, the thread shows each step ok, `pantheon schedules` the result and the next run', { timeout: 240_000 }, async () => {
    // Monday 2 March 2026, 09:00 in Berlin is 30 s of real time after the start (the database is made already: the start takes seconds).
    dueAtMs = Date.now() + 30_000;
    app = await startPantheonProcess({ env: env(), dataDir: dataDir(), cwd: dir.path, timeoutMs: 25_000 });
    assert.ok(Date.now() < dueAtMs - 2000, 'the server got ready before 09:00');
    while (Date.now() < dueAtMs - 1500) {
      assert.equal(ranOnHost(), '', 'nothing ran before 09:00');
      assert.deepEqual(await thread('ops'), []);
      await sleep(500);
    }
    const post = await waitForMessage(app.url, 'ops', (m) => m.text.startsWith('Runbook sync (scheduled):'), 60_000);
    const lateMs = Date.parse(post.createdAt) - dueAtMs;
    assert.ok(lateMs >= 0 && lateMs < 30_000, `posted ${lateMs} ms after 09:00`);
    assert.equal(post.role, 'system');
    assert.equal(post.text, okReport);
    assert.equal(ranOnHost(), 'pushed\nverified\nreported\n', 'every step ran on the host, in order');

    const sync = (await views()).get('morning-sync');
    assert.equal(sync!.kind, 'runbook');
    assert.deepEqual(lastRun(sync), {
      occurrence: '2026-03-02T08:00:00.000Z',
      trigger: 'cron',
      status: 'ok',
      detail: 'runbook sync: 3 of 3 steps succeeded',
      failing: false,
      nextRun: '2026-03-02T08:01:00.000Z',
    });
    const table = await runCli(['schedules', '--data-dir', dataDir()], { env: env(), cwd: dir.path });
    assert.equal(table.code, 0, table.stderr);
    assert.match(
      table.stdout,
      /^morning-sync\s+runbook\s+0-2 9 \* \* 1-5\s+local:ops\s+2026-03-02 09:01 Europe\/Berlin\s+ok at 2026-03-02 09:00 Europe\/Berlin: runbook sync: 3 of 3 steps succeeded$/m,
    );
  });

  it('a step the host policy refuses stops the runbook before any of its steps runs; the refusal is posted', { timeout: 60_000 }, async () => {
    const refusal = await waitForMessage(app!.url, 'cache', () => true, 30_000);
    assert.equal(
      refusal.text,
      `⚠️ Schedule cache-sweep failed: runbook clear-cache not run: step 2 (wipe) is refused by the host policy: the command policy of host app-1 refuses commands matching "rm -rf *". ${ONCE}`,
    );
    assert.equal(existsSync(join(hostDir, 'cache.log')), false, 'neither the step before nor the step after ran');
    assert.equal(readFileSync(join(hostDir, 'cache', 'keep'), 'utf8'), 'cached\n', 'the refused step did not run');
    const sweep = (await views()).get('cache-sweep');
    assert.equal(lastRun(sweep).status, 'failed');
    assert.equal(lastRun(sweep).failing, true);
    assert.equal(lastRun(sweep).nextRun, '2026-03-03T08:00:00.000Z', 'next: Tuesday 09:00 Berlin');
  });

  it('a failing step stops the runbook, is posted once and shown failed; the next failure is not posted; a later good run says it recovered', { timeout: 240_000 }, async () => {
    writeFileSync(join(hostDir, 'broken'), ''); // the host's disk fills up before 09:01
    const before = ranOnHost();
    const failure = await waitForMessage(app!.url, 'ops', (m) => m.text.includes('⚠️'), 90_000);
    assert.equal(
      failure.text,
      [
        'Runbook sync (scheduled):',
        '1. push on app-1: ok (pushed with [REDACTED])',
        '✗ step 2 (verify) on app-1 failed (exit 3): disk full on /data (token [REDACTED])',
        `⚠️ Schedule morning-sync failed ${ONCE}`,
      ].join('\n'),
    );
    assert.equal(ranOnHost(), `${before}pushed\n`, 'step 2 failed; step 3 did not run');
    const detail = 'runbook sync stopped: step 2 (verify) on app-1 failed (exit 3): disk full on /data (token [REDACTED])';
    assert.deepEqual(lastRun((await views()).get('morning-sync')), {
      occurrence: '2026-03-02T08:01:00.000Z',
      trigger: 'cron',
      status: 'failed',
      detail,
      failing: true,
      nextRun: '2026-03-02T08:02:00.000Z',
    });

    // Failing again (run now): it runs, fails, and stays quiet in the thread.
    const posts = (await thread('ops')).length;
    const again = await runCli(['schedules', 'run', 'morning-sync', '--data-dir', dataDir()], { env: env(), cwd: dir.path });
    assert.equal(again.code, 1, again.stderr);
    assert.equal(again.stdout, `morning-sync: failed: ${detail}\n`);
    assert.equal(ranOnHost(), `${before}pushed\npushed\n`, 'it ran again on the host');
    await sleep(1500);
    assert.equal((await thread('ops')).length, posts, 'the second failure is not posted');

    rmSync(join(hostDir, 'broken')); // fixed before 09:02
    const recovered = await waitForMessage(app!.url, 'ops', (m) => m.text.includes('✅'), 90_000);
    assert.equal(recovered.text, `${okReport}\n✅ Schedule morning-sync runs well again`);
    assert.deepEqual(lastRun((await views()).get('morning-sync')), {
      occurrence: '2026-03-02T08:02:00.000Z',
      trigger: 'cron',
      status: 'ok',
      detail: 'runbook sync: 3 of 3 steps succeeded',
      failing: false,
      nextRun: '2026-03-03T08:00:00.000Z',
    });
  });

  it('`pantheon schedules run morning-sync` runs it now; the secret the steps print is in no thread', { timeout: 60_000 }, async () => {
    const before = ranOnHost();
    const posts = (await thread('ops')).length;
    const run = await runCli(['schedules', 'run', 'morning-sync', '--data-dir', dataDir()], { env: env(), cwd: dir.path });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'morning-sync: ok: runbook sync: 3 of 3 steps succeeded\n');
    assert.equal(ranOnHost(), `${before}pushed\nverified\nreported\n`);
    let messages = await thread('ops');
    for (const end = Date.now() + 15_000; messages.length === posts && Date.now() < end; messages = await thread('ops')) await sleep(100);
    assert.equal(messages.length, posts + 1, 'one post for the run');
    assert.equal(messages.at(-1)!.text, okReport);
    assert.equal(lastRun((await views()).get('morning-sync')).trigger, 'manual');
    const all = [...(await thread('ops')), ...(await thread('cache'))];
    assert.ok(
      all.every((m) => !m.text.includes(SECRET)),
      'the token is redacted everywhere',
    );
  });
});
