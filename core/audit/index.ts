export { AuditLog, type AuditEntry, type DecisionRecord, type ToolCallRecord } from './audit-log.js';
