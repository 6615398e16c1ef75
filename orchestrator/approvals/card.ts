import type { Approval } from './types.js';
import { compactArgs, describeExpiry, formatApprovalRequest } from './format.js';

/**
 * An approval request as platform-neutral data, for adapters with buttons (Slack blocks,
 * Mattermost attachments, Telegram inline keyboards, Discord components). Each adapter draws
 * it its own way; one that cannot posts `fallbackText`, which says how to answer by typing.
 * A button press answers like typing `<action.id> <approvalId>`.
 */
export interface ApprovalCard {
  approvalId: string;
  title: string;
  fields: Array<{ label: string; value: string }>;
  actions: [ApprovalCardAction & { id: 'approve' }, ApprovalCardAction & { id: 'deny' }];
  fallbackText: string;
}

export interface ApprovalCardAction {
  id: 'approve' | 'deny';
  label: string;
}

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
    actions: [{ id: 'approve', label: 'Approve' }, { id: 'deny', label: 'Deny' }],
    fallbackText: formatApprovalRequest(approval, now),
  };
}
