/**
 * Routing overhead (issue 3): from ingress to the persona's first model request, with a
 * zero-latency model, conversations arriving at a steady rate. Prints p50/p99 at 50/s for 20 s
 * (1,000 conversations), then steps the rate up to find the highest one sustained before p99
 * passes 250 ms. Also the CPU each conversation costs, in this process and in the rest of the
 * machine (Postgres, Redis), during the 50/s phase: what bounds the sustainable rate.
 *
 *   node --import tsx bench/routing.ts                  # embedded default
 *   node --import tsx bench/routing.ts --postgres-redis # DATABASE_URL (local PG) + REDIS_URL
 *   node --import tsx bench/routing.ts --postgres-redis --workers 2  # the runs in 2 `pantheon worker` processes
 *   node --import tsx bench/routing.ts --replicas       # one `pantheon start` replica, then two (+ --workers N, default 2)
 *                                                       # on the same Postgres and Redis, in one run; messages alternate between the replicas
 *   options: --seconds N (default 20), --step-seconds N (default 5), --durability sync|async|exit (default sync)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { BaseMessage } from '@langchain/core/messages';
import { startPantheon } from '../cli/app.js';
import { createLogger } from '../core/log.js';
import type { Envelope } from '../core/chat/types.js';
import { InstantChatModel } from './support/instant-model.js';
import { benchEnvironment } from './support/external.js';
import { fmt, machineBusyMs, percentile } from './stats.js';

const args = process.argv.slice(2);
const opt = (name: string, d: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d);
const seconds = opt('--seconds', 20);
const stepSeconds = opt('--step-seconds', 5);
const replicas = args.includes('--replicas');
const external = args.includes('--postgres-redis') || replicas;
const workers = opt('--workers', replicas ? 2 : 0);
const durability = (args.includes('--durability') ? args[args.indexOf('--durability') + 1] : 'sync') as 'sync' | 'async' | 'exit';

/** Records when each inbound message first reaches a model (its id is the human message's id). */
class FirstCallModel extends InstantChatModel {
  constructor(private readonly seen: Map<string, number>) {
    super({});
  }
  override async _generate(messages: BaseMessage[]) {
    const now = performance.now();
    for (const m of messages) if (m.id && !this.seen.has(m.id)) this.seen.set(m.id, now);
    return super._generate(messages);
  }
}

async function main() {
  if (workers && !external) throw new Error('--workers needs --postgres-redis: worker processes share Postgres and Redis');
  const { dataDir, env, cleanup } = await benchEnvironment('routing', external);
  const seen = new Map<string, number>();
  // With --replicas the workers join in the second half; the first replica runs its turns itself until then.
  const app = await startPantheon({
    dataDir,
    port: 0,
    host: '127.0.0.1',
    env,
    logger: createLogger({ level: 'warn' }),
    modelFor: () => new FirstCallModel(seen),
    durability,
    workers: replicas || workers === 0,
  });
  /** A child process (bench/support/routing-worker.ts): a `pantheon worker`, or a second replica. */
  const fork1 = async (role: 'worker' | 'all') => {
    const child = fork(fileURLToPath(new URL('./support/routing-worker.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...env, BENCH_DURABILITY: durability, BENCH_ROLE: role },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (m: { id?: string; at?: number }) => {
      if (m.id && m.at !== undefined && !seen.has(m.id)) seen.set(m.id, m.at - performance.timeOrigin);
    });
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`a ${role} process exited with ${code} before it was ready`)));
      child.on('message', (m: { ready?: boolean }) => {
        if (m.ready) resolve();
      });
    });
    return child;
  };
  const children: ChildProcess[] = replicas ? [] : await Promise.all(Array.from({ length: workers }, () => fork1('worker')));
  const workersCpuMs = async () =>
    (
      await Promise.all(
        children.map(
          (c) =>
            new Promise<number>((resolve) => {
              const on = (m: { cpuMs?: number }) => {
                if (m.cpuMs !== undefined) {
                  c.off('message', on);
                  resolve(m.cpuMs);
                }
              };
              c.on('message', on);
              c.send({ cpu: true });
            }),
        ),
      )
    ).reduce((a, b) => a + b, 0);
  const run = randomUUID().slice(0, 6);
  let n = 0;

  /** Where envelopes go in turn: this process's replica, and with --replicas later the second one too. */
  const targets: Array<(e: Envelope) => void> = [(e) => void app.ingress.accept(e)];
  /** Sends `rate` conversations per second for `secs` seconds; answers the ingress→first-model-call latencies. */
  async function phase(rate: number, secs: number): Promise<{ latencies: number[]; missing: number }> {
    const sent = new Map<string, number>();
    const total = Math.round(rate * secs);
    const interval = 1000 / rate;
    const t0 = performance.now();
    for (let i = 0; i < total; i++) {
      const due = t0 + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const id = `bench:${run}:${n++}`;
      const envelope: Envelope = { id, platform: 'local', threadId: `local:r-${run}-${n}`, author: { id: 'bench', name: 'bench' }, text: '@apollo ping', receivedAt: new Date().toISOString() };
      sent.set(id, performance.now());
      targets[i % targets.length]!(envelope);
    }
    const deadline = performance.now() + 30_000;
    while (performance.now() < deadline && [...sent.keys()].some((id) => !seen.has(id))) await new Promise((r) => setTimeout(r, 50));
    const latencies: number[] = [];
    let missing = 0;
    for (const [id, at] of sent) {
      const first = seen.get(id);
      if (first === undefined) missing++;
      else latencies.push(first - at);
    }
    return { latencies, missing };
  }

  /** 50/s for `seconds`, then higher rates until p99 passes 250 ms; prints what it saw under `label`. */
  async function measure(label: string): Promise<void> {
    // Warm up (JIT, connection pools, prepared statements), as a server that has been running is.
    await phase(50, 4);
    await new Promise((res) => setTimeout(res, 1000));
    const cpu0 = process.cpuUsage();
    const workers0 = await workersCpuMs();
    const busy0 = machineBusyMs();
    const main = await phase(50, seconds);
    const conversations = main.latencies.length + main.missing;
    const ownMs = (((c) => (c.user + c.system) / 1000)(process.cpuUsage(cpu0)) + (await workersCpuMs()) - workers0) / conversations;
    const restMs = busy0 === null ? null : Math.max(0, (machineBusyMs()! - busy0) / conversations - ownMs);
    console.log(`routing overhead, ${label}, durability ${durability}: ingress -> persona's first model request, zero-latency model`);
    console.log(
      `  50/s for ${seconds} s (${main.latencies.length + main.missing} conversations): p50 ${fmt(percentile(main.latencies, 50))} ms  p99 ${fmt(percentile(main.latencies, 99))} ms${main.missing ? `  (${main.missing} never reached the model)` : ''}`,
    );
    if (restMs !== null) {
      const cores = availableParallelism();
      console.log(
        `  CPU per conversation: ${fmt(ownMs, 2)} ms in Pantheon's ${children.length ? `${children.length + 1} processes` : 'process'}, ${fmt(restMs, 2)} ms in the rest of the machine (databases, queue); ${cores} cores bound the rate at ${fmt((cores * 1000) / (ownMs + restMs), 0)}/s`,
      );
    }
    const mainP99 = main.missing ? Infinity : percentile(main.latencies, 99);
    let best = mainP99 > 250 ? 0 : 50;
    for (const rate of best ? [100, 150, 200, 250, 300, 400, 600, 800] : []) {
      const r = await phase(rate, stepSeconds);
      const p99 = r.missing ? Infinity : percentile(r.latencies, 99);
      console.log(`  ${rate}/s for ${stepSeconds} s: p50 ${fmt(percentile(r.latencies, 50))} ms  p99 ${fmt(p99)} ms`);
      if (p99 > 250) break;
      best = rate;
      await new Promise((res) => setTimeout(res, 1000));
    }
    console.log(
      best
        ? `  highest sustained rate with p99 <= 250 ms: ${best} conversations/s (steps of ${stepSeconds} s)`
        : '  highest sustained rate with p99 <= 250 ms: below 50 conversations/s (p99 at 50/s is above 250 ms)',
    );
  }

  if (!replicas) {
    await measure((external ? 'Postgres + Redis (BullMQ)' : 'embedded (PGlite + in-process queue)') + (workers ? `, ${workers} worker processes` : ''));
  } else {
    await measure('one `pantheon start` replica on Postgres + Redis (BullMQ), running its own turns');
    // The second replica (its own turns too) and the workers join the same Postgres and Redis.
    const second = await fork1('all');
    children.push(second, ...(await Promise.all(Array.from({ length: workers }, () => fork1('worker')))));
    targets.push((envelope) => second.send({ envelope }));
    await new Promise((res) => setTimeout(res, 2000));
    await measure(`two \`pantheon start\` replicas + ${workers} worker processes on the same Postgres + Redis, messages alternating between the replicas`);
  }
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          c.once('exit', () => resolve());
          c.send({ stop: true });
        }),
    ),
  );
  await app.stop();
  await cleanup();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
