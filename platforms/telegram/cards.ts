import type { InlineKeyboardMarkup } from 'grammy/types';
import type { ApprovalCard } from '../../core/chat/types.js';
import { escapeHtml } from './format.js';

/**
 * Approval cards as Telegram inline keyboards. A button's `callback_data` is
 * `approve:<id>` / `deny:<id>` (Telegram allows 64 bytes); a click comes back as a callback
 * query, which parse.ts turns into the typed command `approve <id>` from the clicking user.
 */
export interface TelegramCard {
  /** HTML text of the card (parse_mode HTML). */
  html: string;
  replyMarkup: InlineKeyboardMarkup;
}

export function renderApprovalCard(card: ApprovalCard): TelegramCard {
  const lines = [
    `<b>${escapeHtml(card.title)}</b>`,
    ...card.fields.map((f) => `<b>${escapeHtml(f.label)}:</b> ${escapeHtml(f.value)}`),
    `Tap a button, or send <code>/approve ${escapeHtml(card.approvalId)}</code> or <code>/deny ${escapeHtml(card.approvalId)} [reason]</code>.`,
  ];
  return {
    html: lines.join('\n'),
    replyMarkup: {
      inline_keyboard: [card.actions.map((a) => ({ text: a.label, callback_data: callbackData(a.id, card.approvalId) }))],
    },
  };
}

export function callbackData(action: 'approve' | 'deny', approvalId: string): string {
  const data = `${action}:${approvalId}`;
  if (Buffer.byteLength(data) > 64) throw new Error(`approval id ${approvalId} is too long for a Telegram button`);
  return data;
}

/** `approve:<id>` → `{ action, approvalId }`; anything else (another bot's buttons) → null. */
export function parseCallbackData(data: string): { action: 'approve' | 'deny'; approvalId: string } | null {
  const m = /^(approve|deny):([A-Za-z0-9]{1,40})$/.exec(data);
  return m ? { action: m[1] as 'approve' | 'deny', approvalId: m[2]! } : null;
}
