/**
 * CPU per turn (issue 3): N new conversations (default 1,000), C in flight at once (default 20),
 * each a persona answering with a zero-latency model; prints turns/s, this process's CPU per turn,
 * and the whole machine's (so Postgres and Redis too). A steadier A/B figure than the routing
 * bench's tail latencies: run two versions back to back and compare.
 *
 *   node --import tsx bench/turn-cpu.ts [--postgres-redis] [--turns N] [--concurrency C] [--profile FILE]
 *
 * --profile writes a V8 CPU profile of the measured turns only (not start-up or warm-up), for
 * Chrome DevTools or any .cpuprofile reader.
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import type { BaseMessage } from '@langchain/core/messages';
import { startPantheon } from '../cli/app.js';
import { createLogger } from '../core/log.js';
import { InstantChatModel } from './support/instant-model.js';
import { benchEnvironment } from './support/external.js';
import { fmt, machineBusyMs } from './stats.js';

const args = process.argv.slice(2);
const opt = (name: string, d: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d);
const external = args.includes('--postgres-redis');
const turns = opt('--turns', 1000);
const concurrency = opt('--concurrency', 20);
const profile = args.includes('--profile') ? args[args.indexOf('--profile') + 1] : undefined;

/** Resolves the waiter of each message when it first reaches the model. */
const waiting = new Map<string, () => void>();
class SignallingModel extends InstantChatModel {
  override async _generate(messages: BaseMessage[]) {
    const result = await super._generate(messages);
    for (const m of messages)
      if (m.id) {
        waiting.get(m.id)?.();
        waiting.delete(m.id);
      }
    return result;
  }
}

const run = randomUUID().slice(0, 8);
const { dataDir, env, cleanup } = await benchEnvironment('turn-cpu', external);
const app = await startPantheon({ dataDir, port: 0, host: '127.0.0.1', env, logger: createLogger({ level: 'warn' }), modelFor: () => new SignallingModel({}), durability: 'sync' });

let sent = 0;
async function drive(n: number, inFlight: number): Promise<void> {
  const end = sent + n;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (sent < end) {
        const id = `turncpu:${run}:${sent++}`;
        const reached = new Promise<void>((resolve) => waiting.set(id, resolve));
        void app.ingress.accept({ id, platform: 'local', threadId: `local:t-${run}-${sent}`, author: { id: 'bench', name: 'bench' }, text: '@apollo ping', receivedAt: new Date().toISOString() });
        await reached;
      }
    }),
  );
}

await drive(50, 10); // warm up
await new Promise((r) => setTimeout(r, 500));
const session = profile ? new Session() : undefined;
if (session) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
const busy0 = machineBusyMs() ?? NaN;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await drive(turns, concurrency);
await new Promise((r) => setTimeout(r, 300)); // the last turns' replies
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
if (session) {
  const { profile: taken } = await session.post('Profiler.stop');
  await writeFile(profile!, JSON.stringify(taken));
  session.disconnect();
}
const own = (cpu.user + cpu.system) / 1000 / turns;
const machine = ((machineBusyMs() ?? NaN) - busy0) / turns;
console.log(`turn CPU, ${external ? 'Postgres + Redis' : 'embedded'}: ${turns} turns, ${concurrency} in flight, ${fmt(turns / seconds, 0)} turns/s`);
console.log(`  CPU per turn: ${fmt(own, 2)} ms in this process, ${fmt(Math.max(0, machine - own), 2)} ms in the rest of the machine, ${fmt(machine, 2)} ms in all`);
await app.stop();
await cleanup();
process.exit(0);
