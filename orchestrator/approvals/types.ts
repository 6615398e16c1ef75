/** The approval contracts live in core/chat/approvals.ts, below the tools and the platforms. */
export {
  isApprovalInterrupt,
  type Approval,
  type ApprovalInterrupt,
  type ApprovalRequest,
  type ApprovalResume,
  type ApprovalStatus,
  type DecideResult,
} from '../../core/chat/approvals.js';
