import { parseApprovalCommand } from '../../core/chat/approvals.js';
import type { ChatCommand } from '../../core/chat/commands.js';
import type { ApprovalDesk } from './desk.js';

/**
 * `approve <id>` and `deny <id> [reason]` as chat commands, typed with or without the slash
 * (`/approve <id>` in Telegram's menu); a button press arrives as the same text. Only an id of
 * the approval alphabet makes a command: "approve this" is ordinary chat for the team.
 */
export function approvalCommands(desk: Pick<ApprovalDesk, 'answer'>): ChatCommand[] {
  const command = (name: 'approve' | 'deny', args: string, description: string): ChatCommand => ({
    name,
    args,
    description,
    bare: true,
    accepts: (_args, text) => parseApprovalCommand(text)?.action === name,
    run: async (_args, envelope) => desk.answer(parseApprovalCommand(envelope.text)!, envelope),
  });
  return [command('approve', '<id>', 'approve a request (approvers only)'), command('deny', '<id> [reason]', 'deny a request (approvers only)')];
}
