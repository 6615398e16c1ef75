import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { startFakeMattermost, type FakeMattermost } from '../fakes/mattermost/index.js';
import { createTestDatabase, postgresSkip } from '../support/postgres.js';
import { deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis.js';
import { modelEnv, startPantheonProcess, tempDir, type RunningPantheon } from '../support/pantheon-process.js';

/**
 * Two `pantheon start` replicas on one Postgres and one Redis, one clock (PANTHEON_TEST_CLOCK with
 * the same anchor): the weekday 09:00 Europe/Berlin stand-up is posted once in the Mattermost
 * channel, its run is recorded ok once athena's turn has ended (whichever replica ran the turn),
 * and the replica that takes the schedules over after its owner is killed does not run it again.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('schedules on two replicas: one run per occurrence', { skip: postgresSkip }, () => {
  let llm: FakeLLM;
  let mm: FakeMattermost;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;
  let dir: { path: string; remove: () => Promise<void> };
  const prefix = uniquePrefix('e2e-schedules');
  const replicas: RunningPantheon[] = [];
  let channelId = '';
  let athenaToken = '';

  before(async () => {
    llm = await startFakeLLM();
    llm.setResponder((req) => ({ text: JSON.stringify(req.messages).includes('Post the stand-up') ? 'Stand-up: W-1 in review, nothing blocked.' : 'ok' }));
    mm = await startFakeMattermost();
    athenaToken = mm.addBot('athena').token;
    mm.addHuman('jeff');
    channelId = mm.addChannel('town-square', { members: ['athena', 'jeff'] }).id;
    database = await createTestDatabase('e2e_schedules');
    pool = new pg.Pool({ connectionString: database.url }).on('error', () => {});
    dir = await tempDir('pantheon-schedules-replicas-');
    await mkdir(join(dir.path, 'personas'));
    await writeFile(
      join(dir.path, 'personas', 'athena.yaml'),
      ['id: athena', 'name: Athena', 'role: pm', 'description: PM.', 'tools: [handoff]', 'prompt: I run the stand-up.', 'handles:', '  mattermost: { token: "${ATHENA_MM_TOKEN}" }'].join('\n'),
    );
    await writeFile(
      join(dir.path, 'pantheon.yaml'),
      [
        'humans:',
        '  - { id: jeff, mattermost: jeff, approver: true }',
        'channels:',
        `  mattermost: { url: "${mm.url}", pingIntervalSeconds: 1 }`,
        'schedules:',
        `  - { name: stand-up, cron: "0 9 * * 1-5", timezone: Europe/Berlin, persona: athena, thread: "mattermost:${channelId}", prompt: "Post the stand-up." }`,
      ].join('\n'),
    );
  });

  after(async () => {
    for (const r of replicas) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    await pool?.end();
    await mm?.close();
    await llm?.close();
    await database?.drop();
    await deleteKeys(testRedisUrl(), prefix);
    await dir?.remove();
  });

  it('both replicas up at 09:00 Berlin: one stand-up in the channel, one run row; the owner killed, the other does not run it again', { timeout: 420_000 }, async () => {
    const dueAtMs = Date.now() + 120_000;
    const env = modelEnv(llm, {
      DATABASE_URL: database.url,
      REDIS_URL: testRedisUrl(),
      PANTHEON_QUEUE_PREFIX: prefix,
      ATHENA_MM_TOKEN: athenaToken,
      // The same anchor for both: Monday 2 March 2026, 09:00 Berlin is `dueAtMs` for every replica.
      PANTHEON_TEST_CLOCK: `2026-03-02T08:00:00Z@${dueAtMs}`,
    });
    for (let i = 0; i < 2; i++) replicas.push(await startPantheonProcess({ env, dataDir: join(dir.path, `data-${i}`), cwd: dir.path, timeoutMs: 110_000 }));
    assert.ok(Date.now() < dueAtMs - 3000, 'both replicas were ready before 09:00');
    await sleep(Math.max(0, dueAtMs - Date.now()));
    const standUps = () => mm.posts.filter((p) => p.channel_id === channelId && mm.username(p.user_id) === 'athena' && p.message.startsWith('Stand-up'));
    await mm.waitFor(() => standUps()[0], 20_000, 'the stand-up in town-square');
    const postedMs = Date.now() - dueAtMs;
    await sleep(3000);
    assert.equal(standUps().length, 1, 'posted once');
    const runRows = () => pool.query<{ occurrence: Date; trigger: string; status: string; detail: string; owner: string }>('SELECT occurrence, trigger, status, detail, owner FROM schedule_runs');
    let { rows } = await runRows();
    // The run ends with athena's turn: its message marked done by whichever replica drained the thread.
    for (const end = Date.now() + 15_000; rows[0]?.status === 'running' && Date.now() < end; { rows } = await runRows()) await sleep(250);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.occurrence.toISOString(), '2026-03-02T08:00:00.000Z');
    assert.equal(rows[0]!.trigger, 'cron');
    assert.deepEqual([rows[0]!.status, rows[0]!.detail], ['ok', `athena answered in mattermost:${channelId}`]);

    const { rows: lease } = await pool.query<{ owner: string }>("SELECT owner FROM leases WHERE name = 'schedules'");
    const owner = replicas.find((r) => r.child.pid === Number(lease[0]!.owner.split('/')[1]))!;
    const other = replicas.find((r) => r !== owner)!;
    assert.equal(Number(rows[0]!.owner.split('/')[1]), owner.child.pid, 'the lease owner ran it');
    const gone = new Promise((r) => owner.child.once('exit', r));
    owner.child.kill('SIGKILL');
    await gone;
    const end = Date.now() + 40_000;
    while (!/took over schedules/.test(other.stdout()) && Date.now() < end) await sleep(200);
    assert.match(other.stdout(), /took over schedules/);
    await sleep(3000);
    assert.equal(standUps().length, 1, 'the new owner did not run the occurrence again');
    assert.equal((await pool.query('SELECT 1 FROM schedule_runs')).rowCount, 1);
    console.log(JSON.stringify({ standUpSeenMsAfterNine: postedMs }));
    assert.equal(await other.stop(), 0, other.stderr());
  });
});
