/**
 * The work ledger: work items (chat requests, issues, PRs, jobs), their states and events.
 *
 * Why a top-level folder of its own, importing only core/: the ledger is shared state, not a
 * part of any one layer above it. The orchestrator reads and writes it (handoffs, the ledger
 * tools, `/status`), tools record what they do (an issue opened, a job run, a workspace kept),
 * and GitHub activity moves items along (github/ledger-sync.ts). Inside orchestrator/ it made
 * tools and channels import the orchestrator; a port in core/chat/ would need a dozen methods
 * and every caller still wants the same Postgres implementation. So the ledger sits below the
 * three, beside core/audit/ in spirit: it may import core/ only (.dependency-cruiser.cjs).
 */
export { WorkLedger } from './ledger.js';
export { summarizeInFlight } from './summary.js';
export { FINISHED_STATES, WORK_STATES, LedgerInputError, WorkItemNotFoundError, normaliseWorkItemId, type WorkItem, type WorkState } from './types.js';
export { registerConsoleRoutes } from './console-routes.js';
