/**
 * Framework overhead with a zero-latency model (issue 2): the time from ingress to the reply being
 * posted, minus the time the same agent takes when invoked bare (createAgent with the same
 * checkpointer; no queue, no routing, no outbox). Also throughput with 50 conversations in flight.
 *
 *   node --import tsx bench/overhead.ts                  # embedded default: PGlite + in-process queue
 *   node --import tsx bench/overhead.ts --postgres-redis # DATABASE_URL (default local test PG) + REDIS_URL
 *   options: --iterations N (default 300), --durability sync|async|exit (default sync, as pantheon runs)
 */
import { randomUUID } from 'node:crypto';
import { createAgent } from 'langchain';
import { HumanMessage } from '@langchain/core/messages';
import { startPantheon } from '../cli/app.js';
import { createLogger } from '../core/log.js';
import { composeSystemPrompt } from '../orchestrator/system-prompt.js';
import type { Envelope } from '../core/chat/types.js';
import { benchEnvironment } from './support/external.js';
import { InstantChatModel } from './support/instant-model.js';
import { memoryMiddleware } from '../memory/recall-context.js';
import { fmt, percentile } from './stats.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const iterations = option('--iterations', 300);
const external = flag('--postgres-redis');
const durability = (args[args.indexOf('--durability') + 1] ?? 'exit') as 'sync' | 'async' | 'exit';
if (args.includes('--durability') && !['sync', 'async', 'exit'].includes(durability)) throw new Error('--durability is sync, async or exit');

async function main() {
  const { dataDir, env, cleanup } = await benchEnvironment('overhead', external);
  const app = await startPantheon({
    dataDir,
    port: 0,
    host: '127.0.0.1',
    env,
    logger: createLogger({ level: 'warn' }),
    modelFor: () => new InstantChatModel({}),
    durability: args.includes('--durability') ? durability : 'sync',
  });
  const apollo = app.loaded.personas.find((p) => p.id === 'apollo')!;
  // The same agent: the persona's prompt and its memory middleware (recall into context), same checkpointer.
  const bare = createAgent({
    model: new InstantChatModel({}),
    tools: [],
    systemPrompt: composeSystemPrompt(apollo, app.loaded.personas),
    checkpointer: app.checkpointer,
    middleware: [memoryMiddleware(app.team.memory, 'apollo')] as never[],
  });

  const viaPantheon = (conversation: string) =>
    new Promise<number>((resolve, reject) => {
      const envelope: Envelope = {
        id: `bench:${conversation}`,
        platform: 'local',
        threadId: `local:${conversation}`,
        author: { id: 'bench', name: 'bench' },
        text: '@apollo ping',
        receivedAt: new Date().toISOString(),
      };
      const t0 = performance.now();
      const done = () => {
        app.store.changes.off(conversation, done);
        resolve(performance.now() - t0);
      };
      app.store.changes.on(conversation, done);
      app.ingress.accept(envelope).catch(reject);
    });
  const viaBareAgent = async (thread: string) => {
    const t0 = performance.now();
    await bare.invoke(
      { messages: [new HumanMessage({ id: `bare:${thread}`, content: '@apollo ping' })] },
      { configurable: { thread_id: thread }, durability: args.includes('--durability') ? durability : 'sync' },
    );
    return performance.now() - t0;
  };

  const run = randomUUID().slice(0, 6);
  for (let i = 0; i < 30; i++) {
    await viaPantheon(`warm-${run}-${i}`);
    await viaBareAgent(`warm-bare-${run}-${i}`);
  }
  const framework: number[] = [];
  const bareTimes: number[] = [];
  for (let i = 0; i < iterations; i++) {
    framework.push(await viaPantheon(`c-${run}-${i}`));
    bareTimes.push(await viaBareAgent(`bare-${run}-${i}`));
  }

  const inFlight = 50;
  const total = Math.max(500, inFlight * 10);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) await viaPantheon(`tp-${run}-${next++}`);
    }),
  );
  const seconds = (performance.now() - t0) / 1000;

  const { rows } = await app.db.pool.query<{ role: string; n: string }>(`SELECT role, count(*) AS n FROM chat_messages WHERE conversation LIKE '%' || $1 || '%' GROUP BY role`, [run]);
  const byRole = Object.fromEntries(rows.map((r) => [r.role, Number(r.n)]));
  const expected = 30 + iterations + total;
  if (byRole.agent !== expected || byRole.system) throw new Error(`expected ${expected} agent replies and no system messages, got ${JSON.stringify(byRole)}`);
  const p = (xs: number[], q: number) => percentile(xs, q);
  const mode = external ? 'Postgres + Redis (BullMQ)' : 'embedded (PGlite + in-process queue)';
  console.log(`framework overhead, ${mode}, ${iterations} sequential messages, zero-latency model, durability "${args.includes('--durability') ? durability : 'sync'}"`);
  console.log(`  ingress -> reply posted: p50 ${fmt(p(framework, 50))} ms  p99 ${fmt(p(framework, 99))} ms`);
  console.log(`  bare createAgent invoke: p50 ${fmt(p(bareTimes, 50))} ms  p99 ${fmt(p(bareTimes, 99))} ms`);
  console.log(
    `  overhead:                p50 ${fmt(p(framework, 50) - p(bareTimes, 50))} ms  p99 ${fmt(p(framework, 99) - p(bareTimes, 99))} ms  (ratio p50 ${fmt(p(framework, 50) / p(bareTimes, 50))}x)`,
  );
  console.log(`  throughput, ${inFlight} conversations in flight: ${fmt(total / seconds, 1)} conversations/s (${total} in ${fmt(seconds)} s)`);

  await app.stop();
  if (process.env.BENCH_KEEP_DB) console.log('kept', app.loaded.config.database.url);
  await cleanup({ keepDatabase: !!process.env.BENCH_KEEP_DB });
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
