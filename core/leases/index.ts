import type pg from 'pg';
import type { Logger } from '../log.js';
import { PgLeases } from './pg-leases.js';
import { SoleOwner } from './sole-owner.js';
import type { Fence, Leases } from './types.js';

export type { Fence, Leases } from './types.js';

/** Leases in Postgres when replicas may share it (`database.url`, also LISTENed on); the embedded database serves one process, which owns everything. */
export function createLeases(opts: { pool: pg.Pool; url?: string; ttlSeconds: number; logger: Logger }): Leases {
  const logger = opts.logger.child({ component: 'leases' });
  return opts.url ? new PgLeases({ pool: opts.pool, logger, ttlMs: opts.ttlSeconds * 1000, listenUrl: opts.url }) : new SoleOwner(logger);
}

/**
 * A SQL condition true only while `fence` is the lease's current token (`$n` the name, `$n+1`
 * the token); always true for the sole owner (token 0). Writes that must not come from a stale
 * owner add it: `... WHERE ${fenced(3)}` with `[..., fence.name, fence.token]`.
 */
export function fenced(n: number): string {
  return `($${n + 1}::bigint = 0 OR EXISTS (SELECT 1 FROM leases WHERE name = $${n} AND token = $${n + 1}))`;
}

export function fenceParams(fence: Fence): [string, number] {
  return [fence.name, fence.token];
}
