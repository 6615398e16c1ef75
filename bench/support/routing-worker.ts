/**
 * A `pantheon worker` process for bench/routing.ts --workers N, or with BENCH_ROLE=all a second
 * `pantheon start` replica (bench/routing.ts --replicas) that takes in the envelopes the parent
 * sends it (`{ envelope }`), as a replica behind a load balancer takes webhooks. The zero-latency
 * model inside it reports (process.send) when each inbound message first reaches a model, in
 * absolute milliseconds (performance.timeOrigin + now), so the parent can measure across processes.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BaseMessage } from '@langchain/core/messages';
import { startPantheon } from '../../cli/app.js';
import type { Envelope } from '../../core/chat/types.js';
import { createLogger } from '../../core/log.js';
import { InstantChatModel } from './instant-model.js';

const seen = new Set<string>();
class ReportingModel extends InstantChatModel {
  override async _generate(messages: BaseMessage[]) {
    const at = performance.timeOrigin + performance.now();
    for (const m of messages) {
      if (m.id && !seen.has(m.id)) {
        seen.add(m.id);
        process.send?.({ id: m.id, at });
      }
    }
    return super._generate(messages);
  }
}

const role = process.env.BENCH_ROLE === 'all' ? 'all' : 'worker';
const app = await startPantheon({
  role,
  port: 0,
  host: '127.0.0.1',
  dataDir: await mkdtemp(join(tmpdir(), 'pantheon-routing-worker-')),
  env: process.env,
  logger: createLogger({ level: 'warn' }),
  modelFor: () => new ReportingModel({}),
  durability: (process.env.BENCH_DURABILITY ?? 'sync') as 'sync' | 'async' | 'exit',
});
const cpu0 = process.cpuUsage();
process.send?.({ ready: true });
process.on('message', (m: { cpu?: boolean; stop?: boolean; envelope?: Envelope }) => {
  if (m.envelope) void app.ingress.accept(m.envelope);
  if (m.cpu) {
    const c = process.cpuUsage(cpu0);
    process.send?.({ cpuMs: (c.user + c.system) / 1000 });
  }
  if (m.stop) void app.stop().then(() => process.exit(0));
});
process.on('disconnect', () => void app.stop().then(() => process.exit(0)));
