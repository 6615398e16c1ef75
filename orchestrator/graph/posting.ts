import { AIMessage } from '@langchain/core/messages';
import type { OutboxPort } from '../../tools/types.js';
import { messageText } from '../message-text.js';
import { turnInfo, type TeamStateValue } from './state.js';

export { SUPERVISOR_ID } from '../../core/chat/supervisor.js';

/** Set on an answer (response_metadata) whose persona shows its thinking (persona `reasoning.show`). */
export const SHOW_REASONING = 'pantheon_show_reasoning';

/**
 * A model's thinking, kept beside its answer and never posted as it: Anthropic's thinking blocks,
 * the `reasoning_content` of vLLM- and DeepSeek-style servers, OpenAI's reasoning summaries.
 */
function reasoningText(m: AIMessage): string {
  const parts: string[] = [];
  if (Array.isArray(m.content)) for (const b of m.content as Array<Record<string, unknown>>) if (b?.type === 'thinking' && typeof b.thinking === 'string') parts.push(b.thinking);
  const kwargs = m.additional_kwargs as { reasoning_content?: unknown; reasoning?: { summary?: Array<{ text?: unknown }> } };
  if (typeof kwargs.reasoning_content === 'string') parts.push(kwargs.reasoning_content);
  for (const s of kwargs.reasoning?.summary ?? []) if (typeof s?.text === 'string') parts.push(s.text);
  return parts.join('\n').trim();
}

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
    const answer = messageText(m).trim();
    const thinking = m.response_metadata?.[SHOW_REASONING] ? reasoningText(m) : '';
    const text = thinking && answer ? `${thinking.replace(/^/gm, '> ')}\n\n${answer}` : answer;
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
