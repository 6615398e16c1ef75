import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { loadConfig } from '../core/config/index.js';
import type { RetentionConfig } from '../core/config/schema.js';
import type { Fence, Leases } from '../core/leases/index.js';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import { WorkLedger } from '../ledger/ledger.js';
import { describePrune, logPrune, pruneRecords, type PruneCount } from '../orchestrator/retention.js';
import { cleanWorkspaces } from '../tools/workspace/cleanup.js';
import { ledgerWorkItems } from '../tools/workspace/retention.js';
import { HttpAnswerError, findServer, withDatabase, type ReadSourceOptions } from './audit.js';
import { CommandError } from './command-error.js';
import { authorization, unauthorizedMessage } from './server-token.js';

export interface PruneDeps {
  pool: pg.Pool;
  retention: RetentionConfig;
  dataDir: string;
  workspacesRetentionDays: number;
  logger: Logger;
}

/** Every kind retention covers: the database's records, then this data dir's workspaces. */
async function pruneAll(deps: PruneDeps, dryRun: boolean): Promise<PruneCount[]> {
  const counts = await pruneRecords(deps.pool, deps.retention, { dryRun });
  const removed = await cleanWorkspaces({
    dataDir: deps.dataDir,
    retentionDays: deps.workspacesRetentionDays,
    lookup: ledgerWorkItems(new WorkLedger(deps.pool)),
    logger: deps.logger,
    dryRun,
  });
  const days = deps.workspacesRetentionDays;
  counts.push({
    kind: 'workspaces',
    count: removed.length,
    bytes: removed.reduce((n, r) => n + r.bytesFreed, 0),
    rule: `workspaces.retentionDays: work ended more than ${days === 1 ? '1 day' : `${days} days`} ago`,
  });
  return counts;
}

/** `POST /api/prune` with `{"dryRun": true}` answers `{ "dryRun", "kinds": [{ kind, count, bytes, rule }] }`. */
export function registerPruneRoutes(app: FastifyInstance, deps: PruneDeps): void {
  app.post('/api/prune', async (req) => {
    const dryRun = (req.body as { dryRun?: unknown } | undefined)?.dryRun === true;
    return { dryRun, kinds: await pruneAll(deps, dryRun) };
  });
}

/**
 * The server's periodic pruning (`retention.intervalMinutes`), held under the `retention` lease
 * (core/leases): the one replica that owns it runs a pass when it takes the lease and every
 * interval after, until it loses or gives it up; its deletions are fenced by the lease's token, so
 * a replica that lost the lease mid-pass removes nothing. Workspaces are not pruned here: each
 * replica cleans its own disk (tools/workspace/cleanup.ts).
 */
export function holdPeriodicPrune(leases: Leases, deps: Omit<PruneDeps, 'dataDir' | 'workspacesRetentionDays'> & { metrics: Pick<Metrics, 'retentionPasses'> }): void {
  const everyMs = deps.retention.intervalMinutes * 60_000;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> | undefined;
  let fence: Fence | undefined;
  const pass = () => {
    if (current || !fence) return;
    current = pruneRecords(deps.pool, deps.retention, { dryRun: false, fence })
      .then((counts) => {
        deps.metrics.retentionPasses.inc({ outcome: 'done' });
        logPrune(deps.logger, counts);
      })
      .catch((err: unknown) => {
        deps.metrics.retentionPasses.inc({ outcome: 'failed' });
        deps.logger.warn({ err }, 'pruning failed; trying again at the next interval');
      })
      .finally(() => {
        current = undefined;
      });
  };
  leases.hold('retention', {
    start: async (held) => {
      fence = held;
      timer = setInterval(pass, everyMs);
      timer.unref();
      pass();
    },
    stop: async () => {
      fence = undefined;
      clearInterval(timer);
      await current;
    },
  });
}

/**
 * `pantheon prune [--dry-run]`: what retention removes, per kind (rows and bytes). Through a running
 * server when there is one (its database and workspaces), else on the database directly.
 */
export async function pruneCommand(opts: ReadSourceOptions & { dryRun?: boolean }, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const dryRun = !!opts.dryRun;
  const server = await findServer(opts);
  let kinds: PruneCount[];
  if (server) {
    let res: Response;
    try {
      res = await fetch(`${server}/api/prune`, {
        method: 'POST',
        headers: { ...authorization(), 'content-type': 'application/json' },
        body: JSON.stringify({ dryRun }),
        signal: AbortSignal.timeout(600_000),
      });
    } catch (err) {
      throw new CommandError(`cannot reach Pantheon at ${server} (${(err as Error).message}); is \`pantheon start\` running?`);
    }
    const body = (await res.json().catch(() => undefined)) as { kinds?: PruneCount[]; error?: { message?: string } } | undefined;
    if (res.status === 401) throw new CommandError(unauthorizedMessage());
    if (!res.ok || !body?.kinds) throw new HttpAnswerError(res.status, `POST ${server}/api/prune answered ${res.status}${body?.error?.message ? `: ${body.error.message}` : ''}`);
    kinds = body.kinds;
  } else {
    const { config } = await loadConfig({ configPath: opts.config, dataDir: opts.dataDir });
    const { createLogger } = await import('../core/log.js');
    const logger = createLogger({ level: 'silent' });
    kinds = await withDatabase(opts, (pool) => pruneAll({ pool, retention: config.retention, dataDir: config.dataDir, workspacesRetentionDays: config.workspaces.retentionDays, logger }, dryRun));
  }
  out.write(describePrune(kinds, dryRun));
}
