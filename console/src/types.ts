/**
 * The JSON the console reads (docs/api.md), in the server's own types: imported as types only, so
 * the build erases them and no server code reaches the browser (the layering allows nothing else).
 */
import type { AuditEntry as AuditRecord } from '../../core/audit/audit-log.js';
import type { WorkItemLink } from '../../ledger/routes.js';
import type { WorkItem as LedgerWorkItem, WorkItemEvent as LedgerWorkItemEvent } from '../../ledger/types.js';
import type { Memory as MemoryRecord } from '../../memory/types.js';
import type { publicLogLine } from '../../tools/infra/jobs/log-stream.js';
import type { ListedPublicApproval } from '../../web/approval-routes.js';
import type { PublicApproval } from '../../web/timeline.js';

export type { Usage } from '../../ledger/usage.js';
export type { PublicJob as Job } from '../../tools/infra/jobs/routes.js';
export type { ConversationSummary as Conversation } from '../../web/conversation-list.js';
export type { StatsAnswer as Stats } from '../../web/stats-routes.js';
export type { Budget, TeamAnswer, TeamPersona as Persona } from '../../web/team-routes.js';
export type { TimelineEntry } from '../../web/timeline.js';

/** A server type as JSON carries it: its dates are ISO strings. */
type Json<T> = T extends Date ? string : T extends string | number | boolean | null ? T : T extends (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;

export type WorkItem = Json<LedgerWorkItem> & { links: WorkItemLink[] };
export type WorkItemEvent = Json<LedgerWorkItemEvent>;
export type AuditEntry = Json<AuditRecord>;
export type Memory = Json<MemoryRecord>;
export type JobLogLine = ReturnType<typeof publicLogLine>;
/** An approval: in the Approvals list with who asked, in a conversation's timeline without. */
export type Approval = PublicApproval & Partial<Pick<ListedPublicApproval, 'askedBy'>>;
