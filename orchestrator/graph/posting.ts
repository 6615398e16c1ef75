import { AIMessage } from '@langchain/core/messages';
import type { OutboxPort } from '../../tools/types.js';
import { messageText } from '../message-text.js';
import { turnInfo, type TeamStateValue } from './state.js';

export { SUPERVISOR_ID } from '../../core/chat/supervisor.js';

/**
 * Posts what personas said since the cursor, each under its own name, through the outbox.
 * The key is the message id, so a node re-run after a crash posts nothing twice.
 * Returns the new cursor.
 */
export async function postNewMessages(state: TeamStateValue, outbox: OutboxPort): Promise<number> {
  const turn = turnInfo(state.turn);
  if (!turn) return state.messages.length;
  for (const m of state.messages.slice(state.cursor)) {
    if (!AIMessage.isInstance(m) || !m.name) continue;
    const text = messageText(m).trim();
    if (!text) continue;
    await outbox.send({
      idempotencyKey: `${turn.threadId}:${m.id}`,
      platform: turn.platform,
      threadId: turn.threadId,
      role: 'agent',
      persona: m.name,
      text,
      replyTo: turn.inboundIds.at(-1),
    });
  }
  return state.messages.length;
}

/** A visible system message for this turn (loop guards, budgets). One per `kind` per turn. */
export async function postNotice(state: TeamStateValue, outbox: OutboxPort, kind: string, text: string): Promise<void> {
  const turn = turnInfo(state.turn);
  if (!turn) return;
  await outbox.send({
    idempotencyKey: `${turn.threadId}:notice:${turn.inboundIds[0] ?? 'none'}:${kind}`,
    platform: turn.platform,
    threadId: turn.threadId,
    role: 'system',
    text,
    replyTo: turn.inboundIds.at(-1),
  });
}
