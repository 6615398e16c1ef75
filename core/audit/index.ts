export {
  AuditLog,
  AUDIT_KINDS,
  DEFAULT_AUDIT_LIMIT,
  MAX_AUDIT_LIMIT,
  type AuditEntry,
  type AuditKind,
  type AuditOutcome,
  type AuditQuery,
  type DecisionRecord,
  type ToolCallRecord,
} from './audit-log.js';
export { maskArgs, maskString, isSecretKey, MASK, MAX_STRING_CHARS } from './mask.js';
export { parseSince } from './since.js';
export { registerAuditRoutes } from './routes.js';
