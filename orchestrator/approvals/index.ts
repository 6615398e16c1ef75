/**
 * Human approval of risky tool calls, in one place: the request store, asking (the
 * `ApprovalPort` the tool guard uses: `ApprovalRequests`), who may answer, how a request is
 * shown, answering (`ApprovalDesk`, with `approve` / `deny` registered as chat commands), and
 * how a paused run is resumed. The contracts (types, the port, the command parser) are in
 * core/chat/approvals.ts.
 */
export { ApprovalStore } from './store.js';
export { ApprovalRequests } from './requests.js';
export { ApprovalDesk } from './desk.js';
export { approvalCommands } from './commands.js';
export { Approvers, type Human } from './approvers.js';
export { parseApprovalCommand, type ApprovalCommand, type ApprovalPort } from '../../core/chat/approvals.js';
export { formatApprovalRequest, compactArgs, describeExpiry } from './format.js';
export { approvalCard } from './card.js';
export type { ApprovalCard, ApprovalCardAction } from '../../core/chat/types.js';
export { pendingApprovalInterrupts, resumeCommandFor, type PendingInterrupt } from '../../test/support/approval-resume.js';
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
