import { createMiddleware } from 'langchain';
import { AIMessage, HumanMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { messageText } from '../message-text.js';

/**
 * The transcript is shared, but a model only understands "assistant" as itself. For one persona's
 * model call: its own messages stay as they are; other personas' words become user messages
 * quoted with their name; their tool calls and tool results are left out. Every answer the model
 * gives is stamped with the persona's id, which is how the next call (and the poster) knows who spoke.
 */
export function personaMessagesMiddleware(personaId: string) {
  return createMiddleware({
    name: `pantheon-voice-${personaId}`,
    wrapModelCall: async (request, handler) => {
      const answer = await handler({ ...request, messages: asSeenBy(personaId, request.messages) });
      if (answer instanceof AIMessage) answer.name = personaId;
      return answer;
    },
  });
}

function asSeenBy(personaId: string, messages: BaseMessage[]): BaseMessage[] {
  const foreignCalls = new Set<string>();
  const out: BaseMessage[] = [];
  for (const m of messages) {
    if (AIMessage.isInstance(m) && m.name && m.name !== personaId) {
      for (const call of m.tool_calls ?? []) if (call.id) foreignCalls.add(call.id);
      const text = messageText(m).trim();
      if (text) out.push(new HumanMessage({ id: m.id, content: `[${m.name}] ${text}`, name: m.name }));
      continue;
    }
    if (ToolMessage.isInstance(m) && foreignCalls.has(m.tool_call_id)) continue;
    out.push(m);
  }
  return out;
}
