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
export { Approvers } from './approvers.js';
export { parseApprovalCommand } from '../../core/chat/approvals.js';
export { formatApprovalRequest } from './format.js';
export { approvalCard } from './card.js';
export { newApprovalId, APPROVAL_ID_PATTERN } from './id.js';
export type { Approval, ApprovalInterrupt, ApprovalRequest } from './types.js';
