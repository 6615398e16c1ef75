import { APPROVAL_ID_PATTERN, normaliseApprovalId } from './id.js';

export interface ApprovalCommand {
  action: 'approve' | 'deny';
  /** Lowercased. */
  id: string;
  /** Anything after the id: the approver's reason, shown to the persona. */
  note?: string;
}

/**
 * `approve <id>`, `deny <id> [reason]`, and the slash forms `/approve <id>`, `/deny <id>`
 * (Telegram sends `/approve@pantheon_bot <id>` in groups). Case-insensitive, whitespace
 * tolerant, `#` before the id allowed. Only ids made of the approval alphabet count, so
 * ordinary chat such as "approve this" is not taken for a command.
 */
const COMMAND = /^\/?(approve|deny)(?:@[A-Za-z0-9_]+)?[ \t]+#?([A-Za-z0-9]+)(?:[^A-Za-z0-9]+([\s\S]*))?$/i;

export function parseApprovalCommand(text: string): ApprovalCommand | null {
  const match = COMMAND.exec(text.trim());
  if (!match) return null;
  const [, verb, rawId, rest] = match;
  if (!APPROVAL_ID_PATTERN.test(rawId!)) return null;
  const note = rest?.trim();
  return {
    action: verb!.toLowerCase() as ApprovalCommand['action'],
    id: normaliseApprovalId(rawId!),
    ...(note ? { note } : {}),
  };
}
