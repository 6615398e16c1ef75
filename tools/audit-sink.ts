import type { ToolCallRecord } from '../core/audit/index.js';

/**
 * Where the guard records tool calls: `AuditLog` (core/audit) in the process, a recording
 * array in tests. Records carry raw arguments and the tool's secret names; the sink masks.
 * (Approval decisions are recorded by whoever decides: the orchestrator's ApprovalDesk.)
 */
export interface AuditSink {
  recordToolCall(record: ToolCallRecord): Promise<unknown>;
}
