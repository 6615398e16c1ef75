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
 * Several `pantheon start` replicas (and two `pantheon worker`s) on one Postgres and one Redis,
 * against the fake Telegram (long polling) and the fake Mattermost with three persona bots: each
 * connection that must be single has one owner (core/leases/), each bot's socket its own lease,
 * the bots shared out between the replicas; every message is answered once; a replica killed
 * with SIGKILL is replaced within 30 s (either way round), also in the middle of a turn; SIGTERM
 * hands over at once. Real processes, the default lease TTL (10 s).
 */
const TOKEN = '7000002:AAH-fake-telegram-token-for-replicas';
const jeff: FakeUser = { id: 111, first_name: 'Jeff', username: 'jeff' };
const BOTS = ['athena', 'apollo', 'hermes'] as const;
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
  const workers: ChildProcess[] = [];
  let n = 0;

  before(async () => {
    llm = await startFakeLLM();
    tg = await startFakeTelegram({ token: TOKEN });
    mm = await startFakeMattermost();
    mm.addHuman('jeff');
    const tokens: Record<string, string> = {};
    database = await createTestDatabase('e2e_replicas');
    pool = new pg.Pool({ connectionString: database.url }).on('error', () => {});
    dir = await tempDir('pantheon-replicas-');
    await mkdir(join(dir.path, 'personas'));
    for (const id of BOTS) {
      tokens[`${id.toUpperCase()}_MM_TOKEN`] = mm.addBot(id).token;
      // A room only this bot is in: what is posted there reaches the replica owning its socket, and no other.
      mm.addChannel(`room-${id}`, { members: [id, 'jeff'] });
      await writeFile(
        join(dir.path, 'personas', `${id}.yaml`),
        [
          `id: ${id}`,
          `name: ${id}`,
          'role: developer',
          'description: A developer.',
          'tools: [handoff]',
          'prompt: I build.',
          'handles:',
          `  mattermost: { token: "\${${id.toUpperCase()}_MM_TOKEN}" }`,
        ].join('\n'),
      );
    }
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
    env = modelEnv(llm, { DATABASE_URL: database.url, REDIS_URL: testRedisUrl(), PANTHEON_QUEUE_PREFIX: prefix, TELEGRAM_BOT_TOKEN: TOKEN, ...tokens });
  });

  after(async () => {
    for (const r of replicas) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    for (const w of workers) w.kill('SIGKILL');
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
  const byPid = (pid: number) => alive().find((r) => r.child.pid === pid);
  /** The replica owning a lease now (by the pid in its owner id). */
  const ownerOf = async (name: string): Promise<RunningPantheon | undefined> => {
    const { rows } = await pool.query<{ owner: string }>('SELECT owner FROM leases WHERE name = $1 AND expires_at > now()', [name]);
    return byPid(Number(rows[0]?.owner.split('/')[1]));
  };
  const socketLeases = BOTS.map((id) => `mattermost:socket:${id}`);
  /** Every bot's socket lease, by the replica owning it. */
  const socketOwners = async () => Promise.all(socketLeases.map(ownerOf));
  const until = async (what: string, ok: () => Promise<boolean> | boolean, ms = 30_000) => {
    const end = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > end) throw new Error(`${what}: not in time`);
      await sleep(100);
    }
  };
  const waitOwned = (name: string, by?: RunningPantheon, ms = 30_000) =>
    until(`${name} owned${by ? ` by ${by.child.pid}` : ''}`, async () => ((o) => !!o && (!by || o === by))(await ownerOf(name)), ms);
  /** Every bot's socket owned, and shared out: each of `among` owns at least one. */
  const waitSpread = (among: RunningPantheon[], ms = 30_000) =>
    until(
      `the bots' sockets shared by ${among.map((r) => r.child.pid).join(' and ')}`,
      async () => {
        const owners = await socketOwners();
        return owners.every((o) => o && among.includes(o)) && among.every((r) => owners.includes(r));
      },
      ms,
    );
  const oneSocketEach = () => until('one socket per bot', () => BOTS.every((id) => mm.sockets(id) === 1), 10_000);

  /** Sends one message on Telegram and one to each bot's room; resolves with when the slowest of each platform was answered. */
  const roundTrip = async (ms = 40_000) => {
    const tag = `r${++n}`;
    const started = Date.now();
    tg.sendText({ from: jeff, text: `hello ${tag}-tg` });
    for (const id of BOTS) mm.post({ user: 'jeff', channel: `room-${id}`, message: `@${id} hello ${tag}-${id}` });
    const [t, ...m] = await Promise.all([
      tg.waitForSent((s) => s.chat_id === jeff.id && s.visible.includes(`${tag}-tg`), ms).then(() => Date.now() - started),
      ...BOTS.map((id) => mm.waitFor(() => mm.posts.find((p) => mm.username(p.user_id) === id && p.message.includes(`${tag}-${id}`)), ms, `answer to ${tag}-${id}`).then(() => Date.now() - started)),
    ]);
    return { tag, telegramMs: t, mattermostMs: Math.max(...m) };
  };
  /** Every message so far answered exactly once, on both platforms, by the bot it was for. */
  const answeredOnce = async () => {
    await sleep(1500);
    for (let i = 1; i <= n; i++) {
      const tgAnswers = tg.sent.filter((s) => s.chat_id === jeff.id && s.visible.includes(`r${i}-tg`));
      assert.equal(tgAnswers.length, 1, `telegram r${i}: ${tgAnswers.map((s) => s.visible).join(' | ')}`);
      for (const id of BOTS) {
        const mmAnswers = mm.posts.filter((p) => mm.username(p.user_id) !== 'jeff' && p.message.includes(`r${i}-${id}`));
        assert.deepEqual(
          mmAnswers.map((p) => mm.username(p.user_id)),
          [id],
          `mattermost r${i}-${id}: ${mmAnswers.map((p) => p.message).join(' | ')}`,
        );
      }
    }
  };
  /** SIGKILL between turns (the next test kills one in the middle of a turn). */
  const kill9 = async (r: RunningPantheon) => {
    await until('no turn in flight', async () => (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM thread_leases WHERE expires_at > now()')).rows[0]!.n === 0, 10_000).catch(() => {});
    const gone = new Promise((res) => r.child.once('exit', res));
    r.child.kill('SIGKILL');
    await gone;
  };

  it('two replicas and two workers: one poller, the bots shared out, one socket each; kill -9 either owner and the other answers within 30 s; SIGTERM hands over at once', {
    timeout: 400_000,
  }, async () => {
    const a = await startReplica();
    const b = await startReplica();
    for (let i = 0; i < 2; i++) workers.push(spawn(process.execPath, [CLI, 'worker'], { env, cwd: dir.path, stdio: ['ignore', 'ignore', 'ignore'] }));
    await waitOwned('telegram:poller');
    // a took every bot at first; once b is live, a hands bots on until each has its share.
    await waitSpread([a, b]);
    await oneSocketEach();

    // Both replicas are up: one answer per message, one poller, one socket per bot.
    for (let i = 0; i < 3; i++) await roundTrip();
    await answeredOnce();
    assert.equal(tg.conflicts.length, 0, 'no two getUpdates pollers at once');
    await oneSocketEach();
    for (const r of [a, b]) {
      const ready = (await (await fetch(`${r.url}/readyz`)).json()) as { status: string; checks: Record<string, string> };
      assert.deepEqual(ready, { status: 'ok', checks: { database: 'ok', migrations: 'ok', redis: 'ok', connections: 'ok' } });
    }

    // kill -9 the Telegram poller's owner, which also owns some of the bots: the other replica
    // takes everything over, and answers in every room, within 30 s.
    const tgOwner = (await ownerOf('telegram:poller'))!;
    const other = tgOwner === a ? b : a;
    const orphans = (await socketOwners()).filter((o) => o === tgOwner).length;
    const logBefore = other.stdout().length;
    await kill9(tgOwner);
    const afterKill = await roundTrip();
    assert.ok(afterKill.telegramMs < 30_000 && afterKill.mattermostMs < 30_000, JSON.stringify(afterKill));
    assert.equal(await ownerOf('telegram:poller'), other);
    // Every bot answered above, so each socket is up; its lease row may be a renewal behind on a
    // loaded machine for a moment (renewed every third of the TTL), so ownership is waited for.
    await until('every bot taken over by the other replica', async () => (await socketOwners()).every((o) => o === other), 15_000);
    assert.match(other.stdout(), /took over telegram:poller from [^"]+\/\d+\//, 'the log names what was taken over and from whom');
    assert.equal(socketLeases.filter((l) => new RegExp(`took over ${l} from`).test(other.stdout().slice(logBefore))).length, orphans, "the killed replica's bots were taken over");

    // The other direction: a new replica joins and gets its share, the owner is killed, the newcomer answers within 30 s.
    const c = await startReplica();
    await waitSpread([other, c]);
    await roundTrip();
    await kill9(other);
    const back = await roundTrip();
    assert.ok(back.telegramMs < 30_000 && back.mattermostMs < 30_000, JSON.stringify(back));
    assert.equal(await ownerOf('telegram:poller'), c);
    await until('every bot taken over by the newcomer', async () => (await socketOwners()).every((o) => o === c), 15_000);

    // SIGTERM: the owner gives its connections up as it stops, and a waiting replica takes them at once.
    const d = await startReplica();
    await waitSpread([c, d]);
    await roundTrip();
    const stopping = Date.now();
    assert.equal(await c.stop(), 0, c.stderr());
    await waitOwned('telegram:poller', d, 5000);
    await until('d owns every bot', async () => (await socketOwners()).every((o) => o === d), 5000);
    const handedOverMs = Date.now() - stopping;
    const afterTerm = await roundTrip(10_000);
    assert.ok(afterTerm.telegramMs < 5000 && afterTerm.mattermostMs < 5000, JSON.stringify(afterTerm));
    assert.match(c.stdout(), /gave up mattermost:socket:/);
    assert.match(d.stdout(), /took over mattermost:socket:\w+ from/);

    await answeredOnce();
    // No getUpdates fight at any point: never two pollers at once; never two sockets for a bot.
    assert.equal(tg.conflicts.length, 0, 'getUpdates conflicts');
    await oneSocketEach();
    console.log(JSON.stringify({ afterKill, back, handedOverMs, afterTerm }));
    await Promise.all(
      workers.splice(0).map((w) => {
        const exited = new Promise((r) => w.once('exit', r));
        w.kill('SIGTERM');
        return exited;
      }),
    );
  });

  it('kill -9 the replica in the middle of a turn: the other replica answers within 30 s, once', { timeout: 120_000 }, async () => {
    // Two replicas and no worker processes: the turn runs in one of them.
    const [d] = alive();
    const e = await startReplica();
    await waitSpread([d!, e]);
    const text = `long ${++n}`;
    const asked = () => llm.requests.filter((r) => r.wire !== 'embeddings' && JSON.stringify(r.messages).includes(text)).length;
    // The first model call is still thinking when its replica dies; the resumed run asks again.
    llm.enqueue({ text: `never sent ${text}`, delayMs: 60_000 }, { text: `answered ${text}` });
    tg.sendText({ from: jeff, text });
    await until('the model is asked', () => asked() === 1, 20_000);
    const { rows } = await pool.query<{ owner: string }>('SELECT owner FROM thread_leases WHERE expires_at > now()');
    assert.equal(rows.length, 1, 'one thread in a turn');
    const running = byPid(Number(rows[0]!.owner.split(':')[0]))!;
    assert.ok(running, `the turn runs in a replica (${rows[0]!.owner})`);
    const gone = new Promise((res) => running.child.once('exit', res));
    running.child.kill('SIGKILL');
    await gone;
    const killedAt = Date.now();
    await tg.waitForSent((m) => m.chat_id === jeff.id && m.visible.includes(`answered ${text}`), 30_000);
    const answeredMs = Date.now() - killedAt;
    assert.ok(answeredMs < 30_000, `answered ${answeredMs} ms after the kill`);
    await sleep(3000);
    assert.equal(tg.sent.filter((m) => m.visible.includes(`answered ${text}`)).length, 1, 'answered once');
    assert.equal(tg.sent.filter((m) => m.visible.includes(`never sent ${text}`)).length, 0, 'the killed run posted nothing');
    assert.equal(asked(), 2, 'the run was resumed once, by the other replica');
    console.log(JSON.stringify({ killedMidTurnAnsweredMs: answeredMs }));
    const survivor = alive()[0]!;
    assert.equal(await survivor.stop(), 0, survivor.stderr());
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
