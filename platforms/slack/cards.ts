import type { ApprovalCard } from '../../core/chat/types.js';
import { toMrkdwn } from './format.js';

/** `action_id`s of the approval buttons; a click on one answers like typing `<verb> <approvalId>`. */
const APPROVAL_ACTIONS = { approve: 'pantheon_approve', deny: 'pantheon_deny' } as const;
const APPROVAL_BLOCK_ID = 'pantheon_approval';

/** Block Kit limits that would make Slack reject the whole message. */
const SECTION_TEXT_LIMIT = 3000;
const FIELD_LIMIT = 2000;
const MAX_FIELDS = 10;

type Block = Record<string, unknown>;

/**
 * An approval request as Block Kit: the title, its fields, Approve/Deny buttons carrying the
 * approval id, and a line saying how to answer by typing. The message's `text` stays the card's
 * fallback (notifications, clients without blocks).
 */
export function approvalBlocks(card: ApprovalCard): Block[] {
  const fields = card.fields.slice(0, MAX_FIELDS).map((f) => ({
    type: 'mrkdwn',
    text: clip(`*${toMrkdwn(f.label)}*\n${toMrkdwn(f.value)}`, FIELD_LIMIT),
  }));
  const buttons = card.actions.map((action) => ({
    type: 'button',
    action_id: APPROVAL_ACTIONS[action.id],
    text: { type: 'plain_text', text: action.label, emoji: true },
    value: card.approvalId,
    style: action.id === 'approve' ? 'primary' : 'danger',
  }));
  return [
    { type: 'section', text: { type: 'mrkdwn', text: clip(`*${toMrkdwn(card.title)}*`, SECTION_TEXT_LIMIT) } },
    ...(fields.length ? [{ type: 'section', fields }] : []),
    { type: 'actions', block_id: APPROVAL_BLOCK_ID, elements: buttons },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `Or type \`approve ${card.approvalId}\` / \`deny ${card.approvalId}\` in this thread.` }] },
  ];
}

/** The chat command a button click stands for (`approve ab12`), or null for a button that is not ours. */
export function commandForAction(action: { action_id?: string; value?: string }): string | null {
  const verb = action.action_id === APPROVAL_ACTIONS.approve ? 'approve' : action.action_id === APPROVAL_ACTIONS.deny ? 'deny' : null;
  if (!verb || !action.value || !/^[A-Za-z0-9_-]{1,64}$/.test(action.value)) return null;
  return `${verb} ${action.value}`;
}

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
