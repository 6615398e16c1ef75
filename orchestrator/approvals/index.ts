/**
 * Human approval of risky tool calls: the request store, the `approve <id>` / `deny <id>`
 * commands, who may answer, how a request is shown, and how a paused run is resumed.
 * Answering commands (checking the approver, deciding, auditing, replying) is the
 * orchestrator's ApprovalDesk (orchestrator/approval-desk.ts).
 */
export { ApprovalStore } from './store.js';
export { Approvers, type Human } from './approvers.js';
export { parseApprovalCommand, type ApprovalCommand } from './command.js';
export { formatApprovalRequest, compactArgs, describeExpiry } from './format.js';
export { approvalCard } from './card.js';
export type { ApprovalCard, ApprovalCardAction } from '../../core/chat/types.js';
export { pendingApprovalInterrupts, resumeCommandFor, type PendingInterrupt } from './resume.js';
export { newApprovalId, normaliseApprovalId, APPROVAL_ID_ALPHABET, APPROVAL_ID_LENGTH, APPROVAL_ID_PATTERN } from './id.js';
export {
  isApprovalInterrupt,
  type Approval,
  type ApprovalInterrupt,
  type ApprovalRequest,
  type ApprovalResume,
  type ApprovalStatus,
  type DecideResult,
} from './types.js';
