import type { ApprovalCard } from '../../core/chat/types.js';
import type { Approval } from './types.js';

export type { ApprovalCard };
import { compactArgs, describeExpiry, formatApprovalRequest } from './format.js';

export function approvalCard(approval: Approval, now = new Date()): ApprovalCard {
  const fields = [
    { label: 'Persona', value: approval.persona },
    { label: 'Tool', value: approval.tool },
    { label: 'Risk', value: approval.risk },
    { label: 'Arguments', value: compactArgs(approval.args) },
  ];
  if (approval.reason) fields.push({ label: 'Reason', value: approval.reason });
  fields.push({ label: 'Expires', value: describeExpiry(approval.expiresAt, now) });
  return {
    approvalId: approval.id,
    title: `Approval needed [${approval.id}]: ${approval.persona} wants to run ${approval.tool}`,
    fields,
    actions: [
      { id: 'approve', label: 'Approve' },
      { id: 'deny', label: 'Deny' },
    ],
    fallbackText: formatApprovalRequest(approval, now),
  };
}
