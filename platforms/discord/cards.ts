import type { ApprovalCard } from '../../core/chat/types.js';

/** Discord component types and button styles used here (API v10). */
const ACTION_ROW = 1;
const BUTTON = 2;
const SUCCESS = 3;
const DANGER = 4;

/** A Discord action row: the message components an approval card becomes. */
export interface DiscordActionRow {
  type: typeof ACTION_ROW;
  components: Array<{ type: typeof BUTTON; style: number; label: string; custom_id: string }>;
}

/**
 * An approval card as one action row with two buttons, `approve:<id>` and `deny:<id>`. The
 * message text above them is the card's text, which says how to answer by typing, so it also
 * stands as the fallback where buttons do not show.
 */
export function approvalComponents(card: ApprovalCard): DiscordActionRow[] {
  return [
    {
      type: ACTION_ROW,
      components: card.actions.map((a) => ({ type: BUTTON, style: a.id === 'approve' ? SUCCESS : DANGER, label: a.label, custom_id: `${a.id}:${card.approvalId}` })),
    },
  ];
}

/** The action a button's custom id stands for, or null for a button that is not ours. */
export function parseCustomId(customId: string): { action: 'approve' | 'deny'; approvalId: string } | null {
  const m = /^(approve|deny):([A-Za-z0-9_-]{1,64})$/.exec(customId);
  return m ? { action: m[1] as 'approve' | 'deny', approvalId: m[2]! } : null;
}
