/**
 * Long threads (issue 16, part 5): the database bytes one thread costs per turn over 1,000 turns
 * once pruned, in the real pipeline (ingress, turn, team graph, checkpoints, the local chat's
 * transcript, runs, usage) with a zero-latency model. The drain keeps only the thread's latest
 * checkpoint; the rest (messages, runs) is the transcript retention keeps until its work ends.
 * Prints the live row bytes per turn (pg_column_size of every row, all tables) and the tables'
 * size on disk per turn (indexes included) after VACUUM FULL, against the database before the
 * thread. Target: under 20 KB per turn. Also the turn's own cost as the thread grows (CPU in this
 * process and time to the drain's end, medians of 50 turns at turns 100, 500 and 1,000): the
 * checkpoint holds the window models are sent, not the thread, so it stays flat.
 *
 *   node --import tsx bench/thread-storage.ts [--postgres-redis] [--turns 1000]
 */
import { randomUUID } from 'node:crypto';
import { startPantheon } from '../cli/app.js';
import { createLogger } from '../core/log.js';
import { InstantChatModel } from './support/instant-model.js';
import { benchEnvironment } from './support/external.js';

const args = process.argv.slice(2);
const opt = (name: string, d: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d);
const external = args.includes('--postgres-redis');
const turns = opt('--turns', 1000);

const { dataDir, env, cleanup } = await benchEnvironment('thread-storage', external);
const app = await startPantheon({ dataDir, port: 0, host: '127.0.0.1', env, logger: createLogger({ level: 'warn' }), modelFor: () => new InstantChatModel({}), durability: 'sync' });
const pool = app.db.pool;

async function tables(): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1`);
  return rows.map((r) => r.name);
}
/** Live row bytes, all tables; and on-disk bytes (tables and indexes) after VACUUM FULL. */
async function measure(): Promise<{ rows: number; disk: number; checkpoints: number }> {
  let rows = 0;
  for (const t of await tables()) rows += Number((await pool.query<{ b: string | null }>(`SELECT sum(pg_column_size(t.*)) AS b FROM "${t}" t`)).rows[0]!.b ?? 0);
  await pool.query('VACUUM FULL');
  const { rows: d } = await pool.query<{ b: string }>(`SELECT sum(pg_total_relation_size(format('%I.%I', schemaname, tablename)::regclass)) AS b FROM pg_tables WHERE schemaname = current_schema()`);
  const { rows: c } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM graph_checkpoints`);
  return { rows, disk: Number(d[0]!.b), checkpoints: c[0]!.n };
}

const run = randomUUID().slice(0, 8);
const thread = `local:storage-${run}`;
async function turn(i: number): Promise<void> {
  const id = `storage:${run}:${i}`;
  await app.ingress.accept({
    id,
    platform: 'local',
    threadId: thread,
    author: { id: 'bench', name: 'bench' },
    text: `@apollo turn ${i}: please check the deploy log of service ${i % 17} and tell me whether migration ${i} ran. ${'Some context about the rollout. '.repeat(3)}`,
    receivedAt: new Date().toISOString(),
  });
  for (;;) {
    const { rows } = await pool.query<{ status: string }>(`SELECT status FROM inbound_messages WHERE id = $1`, [id]);
    if (rows[0]?.status === 'done') return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

const before = await measure();
const started = performance.now();
const marks: Array<{ turn: number; rows: number; disk: number; checkpoints: number }> = [];
/** Per turn: this process's CPU (ms) and the time from the message to its drain's end (ms). */
const cpu: number[] = [];
const wall: number[] = [];
for (let i = 1; i <= turns; i++) {
  const c = process.cpuUsage();
  const w = performance.now();
  await turn(i);
  wall.push(performance.now() - w);
  const d = process.cpuUsage(c);
  cpu.push((d.user + d.system) / 1000);
  if (i === 100 || i === turns) marks.push({ turn: i, ...(await measure()) });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Medians over the 50 turns up to `t`. */
const around = (xs: number[], t: number) => median(xs.slice(Math.max(0, t - 50), t));
const kb = (b: number) => `${(b / 1024).toFixed(2)} KB`;
console.log(`thread storage, ${external ? 'Postgres' : 'embedded PGlite'}: ${turns} turns in one thread in ${((performance.now() - started) / 1000).toFixed(0)} s`);
for (const m of marks) {
  console.log(
    `after turn ${m.turn}: live rows ${kb((m.rows - before.rows) / m.turn)} per turn, on disk (VACUUM FULL, indexes too) ${kb((m.disk - before.disk) / m.turn)} per turn; graph_checkpoints rows in the database: ${m.checkpoints}`,
  );
}
for (const t of [100, 500, 1000].filter((t) => t <= turns))
  console.log(`turn ${t}: median of turns ${Math.max(1, t - 49)}-${t}: CPU ${around(cpu, t).toFixed(1)} ms per turn in this process, ${around(wall, t).toFixed(1)} ms from message to drain's end`);
if (turns >= 1000) console.log(`turn 1000 / turn 100: CPU ${(around(cpu, 1000) / around(cpu, 100)).toFixed(2)}x, time ${(around(wall, 1000) / around(wall, 100)).toFixed(2)}x`);
await app.stop();
await cleanup();
