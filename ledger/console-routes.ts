import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { AuditLog } from '../core/audit/audit-log.js';
import { registerAuditRoutes } from '../core/audit/routes.js';
import type { WorkLedger } from './ledger.js';
import { registerWorkRoutes } from './routes.js';

/**
 * The read-only console API over the audit log and the work ledger: `GET /api/audit`,
 * `GET /api/work`, `GET /api/work/:id`, `GET /api/usage`. It lives here rather than in core/http because the
 * ledger is an orchestrator concept and core/ knows nothing above it.
 */
export function registerConsoleRoutes(app: FastifyInstance, opts: { audit: AuditLog; ledger: WorkLedger; pool: pg.Pool; githubWebUrl?: string }): void {
  registerAuditRoutes(app, { audit: opts.audit });
  registerWorkRoutes(app, { ledger: opts.ledger, pool: opts.pool, githubWebUrl: opts.githubWebUrl });
}
