import { createHmac, timingSafeEqual } from 'node:crypto';
import type { MessageAttachment } from '@mattermost/types/message_attachments';
import type { ApprovalCard } from '../../core/chat/types.js';

/**
 * Approval cards as Mattermost interactive messages: a message attachment with the card's
 * fields and two buttons whose integration URL is Pantheon's `POST /webhooks/mattermost/actions`.
 * Mattermost keeps an action's integration (URL and context) on the server and strips it from
 * posts sent to clients, so a signature in the context proves a click request came through
 * Mattermost for this approval and thread, and not from someone who can reach Pantheon's port.
 */

/** The context Pantheon attaches to each button; Mattermost sends it back with the click. */
export interface ActionContext {
  approval: string;
  action: 'approve' | 'deny';
  /** The thread the card was posted in: the answer goes there, like a typed `approve <id>`. */
  thread: string;
  sig: string;
}

export const ACTIONS_PATH = '/webhooks/mattermost/actions';

export function signAction(secret: string, fields: Omit<ActionContext, 'sig'>): string {
  return createHmac('sha256', secret).update(`${fields.approval}\n${fields.action}\n${fields.thread}`).digest('hex');
}

/** The context of a click if it carries Pantheon's valid signature, else null. */
export function verifyActionContext(secret: string, context: unknown): ActionContext | null {
  if (!context || typeof context !== 'object') return null;
  const c = context as Record<string, unknown>;
  if (typeof c.approval !== 'string' || typeof c.thread !== 'string' || typeof c.sig !== 'string') return null;
  if (c.action !== 'approve' && c.action !== 'deny') return null;
  const fields = { approval: c.approval, action: c.action, thread: c.thread } as const;
  const expected = Buffer.from(signAction(secret, fields), 'hex');
  const given = Buffer.from(c.sig, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  return { ...fields, sig: c.sig };
}

/** A post for an approval card: short text plus an attachment with fields and Approve/Deny buttons. */
export function approvalPost(card: ApprovalCard, opts: { actionsUrl: string; secret: string; threadId: string }): { message: string; props: { attachments: MessageAttachment[] } } {
  const id = card.approvalId;
  const button = (action: ApprovalCard['actions'][number]) => {
    const fields = { approval: id, action: action.id, thread: opts.threadId };
    return {
      id: action.id,
      name: action.label,
      type: 'button',
      style: action.id === 'approve' ? 'success' : 'danger',
      integration: { url: opts.actionsUrl, context: { ...fields, sig: signAction(opts.secret, fields) } },
    };
  };
  const attachment = {
    fallback: card.fallbackText,
    color: '#f2a900',
    fields: card.fields.map((f) => ({ title: f.label, value: f.value, short: !['Arguments', 'Reason'].includes(f.label) })),
    actions: card.actions.map(button),
  };
  return {
    message: `**${card.title}**\nUse the buttons, or reply \`approve ${id}\` or \`deny ${id}\`.`,
    props: { attachments: [attachment as MessageAttachment] },
  };
}
