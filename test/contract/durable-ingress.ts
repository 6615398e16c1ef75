import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Envelope, IngressSink } from '../../core/chat/types.js';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { createLogger } from '../../core/log.js';
import { createMetrics } from '../../core/metrics.js';
import { MemoryQueue } from '../../core/queue/index.js';
import { Ingress, INGRESS_QUEUE, type IngressJob } from '../../orchestrator/ingress.js';
import { createTestDatabase, postgresSkip } from '../support/postgres.js';

const logger = createLogger({ level: 'silent' });

/**
 * The real ingress (orchestrator/ingress.ts: `inbound_messages`, deduped by envelope id, then the
 * ingress queue) on a database of its own, with faults a test can switch on: the next calls fail
 * (the database went away), or the next call waits until released (a slow disk). "Answered" is
 * the ingress queue's job running for an envelope: what the orchestrator would do once per message.
 * On the machine's Postgres when there is one (fast to create), else on embedded PGlite.
 */
export interface DurableIngress {
  readonly sink: IngressSink;
  readonly pool: pg.Pool;
  /** Every call made, attempts included, oldest first. */
  readonly calls: Envelope[];
  /** The next `count` calls throw, as when the database is unreachable. */
  failNext(count: number): void;
  /** The next call waits (before storing anything) until `release()`. */
  stall(): { release(): void };
  callsFor(id: string): number;
  /** The envelope is in `inbound_messages`. */
  stored(id: string): Promise<boolean>;
  /** How many times the ingress queue ran the envelope's job. */
  answered(id: string): number;
  close(): Promise<void>;
}

export async function startDurableIngress(): Promise<DurableIngress> {
  let pool: pg.Pool;
  let cleanup: () => Promise<void>;
  if (postgresSkip) {
    const dir = mkdtempSync(join(tmpdir(), 'pantheon-contract-'));
    const db: Database = await createDatabase({ dataDir: dir, logger });
    pool = db.pool;
    cleanup = async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    };
  } else {
    const db = await createTestDatabase('contract');
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    // Dropping the database at the end terminates any connection still open to it ("terminating
    // connection due to administrator command"): an idle client's error, not the test's.
    pool.on('error', () => {});
    cleanup = async () => {
      await pool.end();
      await db.drop();
    };
  }
  await migrate(pool, { logger });
  const queue = new MemoryQueue();
  const answers = new Map<string, number>();
  await queue.process<IngressJob, void>(INGRESS_QUEUE, async (job) => {
    if (!('envelope' in job.data)) return;
    const { id } = job.data.envelope;
    answers.set(id, (answers.get(id) ?? 0) + 1);
    await pool.query(`UPDATE inbound_messages SET status = 'done' WHERE id = $1`, [id]);
  });
  const ingress = new Ingress({ pool, queue, metrics: createMetrics({ defaultMetrics: false }), logger });

  const calls: Envelope[] = [];
  let failures = 0;
  let gate: Promise<void> | undefined;
  const sink: IngressSink = async (envelope, opts) => {
    calls.push(envelope);
    if (failures > 0) {
      failures--;
      throw new Error("connect ECONNREFUSED 127.0.0.1:5432 (the contract suite's simulated outage)");
    }
    if (gate) {
      const waiting = gate;
      gate = undefined;
      await waiting;
    }
    return ingress.accept(envelope, opts);
  };

  return {
    sink,
    pool,
    calls,
    failNext(count) {
      failures = count;
    },
    stall() {
      let release!: () => void;
      gate = new Promise<void>((r) => {
        release = r;
      });
      return { release: () => release() };
    },
    callsFor: (id) => calls.filter((e) => e.id === id).length,
    async stored(id) {
      const { rows } = await pool.query('SELECT 1 FROM inbound_messages WHERE id = $1', [id]);
      return rows.length > 0;
    },
    answered: (id) => answers.get(id) ?? 0,
    async close() {
      await queue.close();
      await cleanup();
    },
  };
}

/** Polls until `fn` answers something truthy. */
export async function until<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
