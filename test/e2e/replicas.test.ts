import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { startFakeMattermost, type FakeMattermost } from '../fakes/mattermost/index.js';
import { startFakeTelegram, type FakeTelegram, type FakeUser } from '../fakes/telegram/index.js';
import { createTestDatabase, postgresSkip } from '../support/postgres.js';
import { deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis.js';
import { CLI, modelEnv, startPantheonProcess, tempDir, type RunningPantheon } from '../support/pantheon-process.js';

/**
 * Several `pantheon start` replicas (and a `pantheon worker`) on one Postgres and one Redis,
 * against the fake Telegram (long polling) and the fake Mattermost: each connection that must be
 * single has one owner (core/leases/), every message is answered once, a replica killed with
 * SIGKILL is replaced within 30 s (either way round), and SIGTERM hands over at once. Real
 * processes, the default lease TTL (20 s).
 */
const TOKEN = '7000002:AAH-fake-telegram-token-for-replicas';
const jeff: FakeUser = { id: 111, first_name: 'Jeff', username: 'jeff' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('replicas: one owner per connection, taken over when its owner dies', { skip: postgresSkip }, () => {
  let llm: FakeLLM;
  let tg: FakeTelegram;
  let mm: FakeMattermost;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;
  let dir: { path: string; remove: () => Promise<void> };
  let env: NodeJS.ProcessEnv;
  const prefix = uniquePrefix('e2e-replicas');
  const replicas: RunningPantheon[] = [];
  let worker: ChildProcess | undefined;
  let n = 0;

  before(async () => {
    llm = await startFakeLLM();
    tg = await startFakeTelegram({ token: TOKEN });
    mm = await startFakeMattermost();
    const athena = mm.addBot('athena');
    mm.addHuman('jeff');
    mm.addChannel('town-square', { members: ['athena', 'jeff'] });
    database = await createTestDatabase('e2e_replicas');
    pool = new pg.Pool({ connectionString: database.url }).on('error', () => {});
    dir = await tempDir('pantheon-replicas-');
    await mkdir(join(dir.path, 'personas'));
    await writeFile(
      join(dir.path, 'personas', 'athena.yaml'),
      ['id: athena', 'name: Athena', 'role: pm', 'description: PM.', 'tools: [handoff]', 'prompt: I scope work.', 'handles:', '  mattermost: { token: "${ATHENA_MM_TOKEN}" }'].join('\n'),
    );
    await writeFile(
      join(dir.path, 'pantheon.yaml'),
      [
        'humans:',
        '  - { id: jeff, telegram: 111, mattermost: jeff, approver: true }',
        'channels:',
        `  mattermost: { url: "${mm.url}", pingIntervalSeconds: 1 }`,
        `  telegram: { token: "\${TELEGRAM_BOT_TOKEN}", apiRoot: "${tg.apiRoot}" }`,
      ].join('\n'),
    );
    env = modelEnv(llm, { DATABASE_URL: database.url, REDIS_URL: testRedisUrl(), PANTHEON_QUEUE_PREFIX: prefix, TELEGRAM_BOT_TOKEN: TOKEN, ATHENA_MM_TOKEN: athena.token });
  });

  after(async () => {
    for (const r of replicas) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    worker?.kill('SIGKILL');
    await pool?.end();
    await tg?.close();
    await mm?.close();
    await llm?.close();
    await database?.drop();
    await deleteKeys(testRedisUrl(), prefix);
    await dir?.remove();
  });

  const startReplica = async () => {
    const replica = await startPantheonProcess({ env, dataDir: join(dir.path, `data-${replicas.length}`), cwd: dir.path, timeoutMs: 90_000 });
    replicas.push(replica);
    return replica;
  };
  const alive = () => replicas.filter((r) => r.child.exitCode === null && r.child.signalCode === null);
  /** The replica owning a lease now (by the pid in its owner id). */
  const ownerOf = async (name: string): Promise<RunningPantheon | undefined> => {
    const { rows } = await pool.query<{ owner: string }>('SELECT owner FROM leases WHERE name = $1 AND expires_at > now()', [name]);
    const pid = Number(rows[0]?.owner.split('/')[1]);
    return alive().find((r) => r.child.pid === pid);
  };
  const waitOwned = async (name: string, by?: RunningPantheon, ms = 30_000) => {
    const end = Date.now() + ms;
    for (;;) {
      const owner = await ownerOf(name);
      if (owner && (!by || owner === by)) return owner;
      if (Date.now() > end) throw new Error(`${name} not owned in time`);
      await sleep(100);
    }
  };

  /** Sends one message on each platform; resolves with when each was answered. */
  const roundTrip = async (ms = 40_000) => {
    const tag = `r${++n}`;
    const started = Date.now();
    tg.sendText({ from: jeff, text: `hello ${tag}-tg` });
    mm.post({ user: 'jeff', channel: 'town-square', message: `@athena hello ${tag}-mm` });
    const [t, m] = await Promise.all([
      tg.waitForSent((s) => s.chat_id === jeff.id && s.visible.includes(`${tag}-tg`), ms).then(() => Date.now() - started),
      mm.waitFor(() => mm.posts.find((p) => mm.username(p.user_id) === 'athena' && p.message.includes(`${tag}-mm`)), ms, `answer to ${tag}-mm`).then(() => Date.now() - started),
    ]);
    return { tag, telegramMs: t, mattermostMs: m };
  };
  /** Every message so far answered exactly once, on both platforms. */
  const answeredOnce = async () => {
    await sleep(1500);
    for (let i = 1; i <= n; i++) {
      const tgAnswers = tg.sent.filter((s) => s.chat_id === jeff.id && s.visible.includes(`r${i}-tg`));
      const mmAnswers = mm.posts.filter((p) => mm.username(p.user_id) === 'athena' && p.message.includes(`r${i}-mm`));
      assert.equal(tgAnswers.length, 1, `telegram r${i}: ${tgAnswers.map((s) => s.visible).join(' | ')}`);
      assert.equal(mmAnswers.length, 1, `mattermost r${i}: ${mmAnswers.map((p) => p.message).join(' | ')}`);
    }
  };
  /**
   * Kills with SIGKILL between turns: a replica killed mid-turn also leaves its thread's lease
   * (orchestrator/thread-lease.ts, 30 s) to run out, which is the durability path, not this one.
   */
  const kill9 = async (r: RunningPantheon) => {
    const end = Date.now() + 10_000;
    for (;;) {
      const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM thread_leases WHERE expires_at > now()');
      if (rows[0]!.n === 0 || Date.now() > end) break;
      await sleep(50);
    }
    const gone = new Promise((res) => r.child.once('exit', res));
    r.child.kill('SIGKILL');
    await gone;
  };

  it('two replicas and a worker: one poller, one socket per bot; kill -9 either owner and the other answers within 30 s; SIGTERM hands over at once', { timeout: 300_000 }, async () => {
    const a = await startReplica();
    const b = await startReplica();
    worker = spawn(process.execPath, [CLI, 'worker'], { env, cwd: dir.path, stdio: ['ignore', 'ignore', 'ignore'] });
    const tgOwner = await waitOwned('telegram:poller');
    await waitOwned('mattermost:sockets');
    await mm.waitFor(() => mm.sockets('athena') === 1, 10_000, "athena's socket");

    // Both replicas are up: one answer per message, one poller, one socket.
    for (let i = 0; i < 3; i++) await roundTrip();
    await answeredOnce();
    assert.equal(tg.conflicts.length, 0, 'no two getUpdates pollers at once');
    assert.equal(mm.sockets('athena'), 1, 'one socket for the bot');
    const ready = (await (await fetch(`${a.url}/readyz`)).json()) as { status: string; checks: Record<string, string> };
    assert.deepEqual(ready, { status: 'ok', checks: { database: 'ok', migrations: 'ok', redis: 'ok', connections: 'ok' } });

    // kill -9 the Telegram poller's owner: the other replica takes everything over within 30 s.
    const other = tgOwner === a ? b : a;
    await kill9(tgOwner);
    const afterKill = await roundTrip();
    assert.ok(afterKill.telegramMs < 30_000 && afterKill.mattermostMs < 30_000, JSON.stringify(afterKill));
    assert.equal(await ownerOf('telegram:poller'), other);
    assert.equal(await ownerOf('mattermost:sockets'), other);
    assert.match(other.stdout(), /took over telegram:poller from [^"]+\/\d+\//, 'the log names what was taken over and from whom');

    // The other direction: a new replica joins, the owner is killed, the newcomer answers within 30 s.
    const c = await startReplica();
    await roundTrip();
    await kill9(other);
    const back = await roundTrip();
    assert.ok(back.telegramMs < 30_000 && back.mattermostMs < 30_000, JSON.stringify(back));
    assert.equal(await ownerOf('telegram:poller'), c);

    // SIGTERM: the owner gives its connections up as it stops, and a waiting replica takes them at once.
    const d = await startReplica();
    await roundTrip();
    const stopping = Date.now();
    assert.equal(await c.stop(), 0, c.stderr());
    await waitOwned('telegram:poller', d, 5000);
    await waitOwned('mattermost:sockets', d, 5000);
    const handedOverMs = Date.now() - stopping;
    const afterTerm = await roundTrip(10_000);
    assert.ok(afterTerm.telegramMs < 5000 && afterTerm.mattermostMs < 5000, JSON.stringify(afterTerm));
    assert.match(c.stdout(), /gave up telegram:poller/);
    assert.match(d.stdout(), /took over telegram:poller from/);

    await answeredOnce();
    // No getUpdates fight at any point: never two pollers at once.
    assert.equal(tg.conflicts.length, 0, 'getUpdates conflicts');
    assert.equal(mm.sockets('athena'), 1);
    console.log(JSON.stringify({ afterKill, back, handedOverMs, afterTerm }));
    assert.equal(await d.stop(), 0, d.stderr());
    const exited = new Promise((r) => worker!.once('exit', r));
    worker.kill('SIGTERM');
    await exited;
  });
  it('SIGTERM lets the run in flight finish: answered once, by a model call made once, and the replica exits 0', { timeout: 120_000 }, async () => {
    const x = await startReplica();
    await waitOwned('telegram:poller', x);
    const text = `slow ${++n}`;
    const asked = () => llm.requests.filter((r) => r.wire !== 'embeddings' && JSON.stringify(r.messages).includes(text)).length;
    llm.enqueue({ text: `finished ${text}`, delayMs: 4000 });
    tg.sendText({ from: jeff, text });
    const end = Date.now() + 20_000;
    while (asked() === 0 && Date.now() < end) await sleep(50);
    assert.equal(asked(), 1, 'the run is under way');
    assert.equal(await x.stop(), 0, x.stderr());
    assert.match(x.stdout(), /gave up telegram:poller/);
    // The run finished before the process left; whoever runs next delivers what it posted, if x had not.
    const y = await startReplica();
    await tg.waitForSent((m) => m.chat_id === jeff.id && m.visible.includes(`finished ${text}`), 20_000);
    await sleep(1500);
    assert.equal(tg.sent.filter((m) => m.visible.includes(`finished ${text}`)).length, 1, 'answered once');
    assert.equal(asked(), 1, 'the model was not asked again: the run was not cut off and resumed');
    assert.equal(await y.stop(), 0, y.stderr());
  });
});
