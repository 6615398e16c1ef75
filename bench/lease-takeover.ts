/**
 * How fast a connection moves to another replica (issue 17): two `pantheon start` replicas on one
 * Postgres and Redis (a database and key prefix of their own) against the fake Telegram (long
 * polling) and the scripted model server. Each run kills the Telegram poller's owner with
 * SIGKILL, sends a message at once, and times the answer, which only the other replica can give
 * once it has taken the lease over; a fresh replica then joins as the next standby. Then the
 * same with SIGTERM (the owner gives its leases up as it stops). Then a replica killed in the
 * middle of a turn (the model still thinking): the time from the kill to the answer, which the
 * other replica gives once the turn's job and thread are handed on.
 *
 *   node --import tsx bench/lease-takeover.ts [--runs N] [--ttl SECONDS]
 *
 * Needs `npm run build` (the replicas run dist/) and the local Postgres and Redis.
 * Prints: kill -9 → first answer by the other replica (median, min, max of N, default 5),
 * SIGTERM → first answer (median of N), and kill -9 mid-turn → the answer (median of N).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { startFakeLLM } from '../test/fakes/llm/index.js';
import { startFakeTelegram, type FakeUser } from '../test/fakes/telegram/index.js';
import { modelEnv, startPantheonProcess, type RunningPantheon } from '../test/support/pantheon-process.js';
import { fmt, median } from './stats.js';
import { benchEnvironment } from './support/external.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const runs = option('--runs', 5);
const ttl = option('--ttl', 10);
const TOKEN = '7000003:AAH-fake-telegram-token-for-bench';
const jeff: FakeUser = { id: 111, first_name: 'Jeff', username: 'jeff' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const base = await benchEnvironment('lease-takeover', true);
const llm = await startFakeLLM();
const tg = await startFakeTelegram({ token: TOKEN });
const pool = new pg.Pool({ connectionString: base.env.DATABASE_URL }).on('error', () => {});
const replicas: RunningPantheon[] = [];
const alive = () => replicas.filter((r) => r.child.exitCode === null && r.child.signalCode === null);

try {
  await mkdir(join(base.dataDir, 'personas'));
  await writeFile(
    join(base.dataDir, 'pantheon.yaml'),
    ['humans:', '  - { id: jeff, telegram: 111 }', 'channels:', `  telegram: { token: "\${TELEGRAM_BOT_TOKEN}", apiRoot: "${tg.apiRoot}" }`].join('\n'),
  );
  const env = modelEnv(llm, { ...base.env, TELEGRAM_BOT_TOKEN: TOKEN, PANTHEON_LEASE_TTL_SECONDS: String(ttl), PANTHEON_LOG_LEVEL: 'warn' });
  const startReplica = async () => {
    const r = await startPantheonProcess({ env: { ...env, PANTHEON_LOG_LEVEL: 'info' }, dataDir: join(base.dataDir, `data-${replicas.length}`), cwd: base.dataDir, timeoutMs: 90_000 });
    replicas.push(r);
    return r;
  };
  const owner = async () => {
    for (;;) {
      const { rows } = await pool.query<{ owner: string }>(`SELECT owner FROM leases WHERE name = 'telegram:poller' AND expires_at > now()`);
      const pid = Number(rows[0]?.owner.split('/')[1]);
      const found = alive().find((r) => r.child.pid === pid);
      if (found) return found;
      await sleep(100);
    }
  };
  let n = 0;
  /** Sends a message now; resolves with the ms until it is answered. */
  const answered = async () => {
    const text = `ping ${++n}`;
    const started = Date.now();
    tg.sendText({ from: jeff, text });
    await tg.waitForSent((s) => s.chat_id === jeff.id && s.visible.includes(text), 120_000);
    return Date.now() - started;
  };

  await startReplica();
  await startReplica();
  await owner();
  await answered();

  const killed: number[] = [];
  for (let i = 0; i < runs; i++) {
    const victim = await owner();
    const gone = new Promise((r) => victim.child.once('exit', r));
    victim.child.kill('SIGKILL');
    await gone;
    killed.push(await answered());
    process.stderr.write(`kill -9 run ${i + 1}: ${killed.at(-1)} ms\n`);
    await startReplica(); // the next standby
  }
  const terminated: number[] = [];
  for (let i = 0; i < runs; i++) {
    const victim = await owner();
    const stopping = victim.stop();
    terminated.push(await answered());
    await stopping;
    process.stderr.write(`SIGTERM run ${i + 1}: ${terminated.at(-1)} ms\n`);
    await startReplica();
  }

  const midTurn: number[] = [];
  for (let i = 0; i < runs; i++) {
    const text = `long ${++n}`;
    const asked = () => llm.requests.filter((r) => r.wire !== 'embeddings' && JSON.stringify(r.messages).includes(text)).length;
    // The first call is still thinking when its replica dies; the resumed run asks again and answers.
    llm.enqueue({ text: `never ${text}`, delayMs: 120_000 }, { text: `answered ${text}` });
    tg.sendText({ from: jeff, text });
    while (asked() === 0) await sleep(20);
    const { rows } = await pool.query<{ owner: string }>('SELECT owner FROM thread_leases WHERE expires_at > now()');
    const victim = alive().find((r) => r.child.pid === Number(rows[0]?.owner.split(':')[0]));
    if (!victim) throw new Error(`the turn is not in a replica: ${JSON.stringify(rows)}`);
    const gone = new Promise((r) => victim.child.once('exit', r));
    victim.child.kill('SIGKILL');
    await gone;
    const killedAt = Date.now();
    await tg.waitForSent((s) => s.chat_id === jeff.id && s.visible.includes(`answered ${text}`), 120_000);
    midTurn.push(Date.now() - killedAt);
    process.stderr.write(`kill -9 mid-turn run ${i + 1}: ${midTurn.at(-1)} ms\n`);
    await startReplica();
  }
  const twice = tg.sent.filter((s) => /answered long \d+/.test(s.visible)).length - runs;

  console.log(`lease takeover, 2 replicas, leases.ttlSeconds ${ttl} (renewed and tried every ${ttl / 4} s), ${runs} runs each`);
  console.log(
    `  kill -9 the Telegram poller's owner → first answer by the other replica: median ${fmt(median(killed) / 1000, 1)} s (min ${fmt(Math.min(...killed) / 1000, 1)}, max ${fmt(Math.max(...killed) / 1000, 1)})`,
  );
  console.log(
    `  SIGTERM the owner → first answer by the other replica:                  median ${fmt(median(terminated) / 1000, 2)} s (min ${fmt(Math.min(...terminated) / 1000, 2)}, max ${fmt(Math.max(...terminated) / 1000, 2)})`,
  );
  console.log(
    `  kill -9 the replica running a turn → its answer by the other replica:   median ${fmt(median(midTurn) / 1000, 1)} s (min ${fmt(Math.min(...midTurn) / 1000, 1)}, max ${fmt(Math.max(...midTurn) / 1000, 1)}); answered twice: ${twice}`,
  );
  console.log(`  getUpdates conflicts (two pollers at once): ${tg.conflicts.length}`);
} finally {
  for (const r of alive()) r.child.kill('SIGKILL');
  await pool.end();
  await tg.close();
  await llm.close();
  await base.cleanup();
}
