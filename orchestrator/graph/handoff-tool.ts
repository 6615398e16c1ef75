import { tool } from 'langchain';
import { Command } from '@langchain/langgraph';
import { ToolMessage } from '@langchain/core/messages';
import { z } from 'zod';
import type { HandoffRequest } from './state.js';

export const HANDOFF_NODE = 'handoff_gate';

/**
 * `handoff`: a persona delegates to a teammate inside the graph. The tool records the request in
 * the team state, which ends the persona's turn at the handoff gate: it applies the loop guards,
 * records the work item and hands the receiver the message. Nothing here goes through a chat platform.
 */
export function createHandoffTool(from: string, team: ReadonlyArray<{ id: string; name: string; role: string }>) {
  const others = team.filter((p) => p.id !== from);
  const roster = others.map((p) => `${p.id} (${p.role})`).join(', ');
  return tool(
    async ({ to, message }, config) => {
      const callId = (config as { toolCall?: { id?: string } }).toolCall?.id ?? `handoff-${Date.now()}`;
      const target = to.trim().replace(/^@/, '').toLowerCase();
      if (target === from) return 'You cannot hand off to yourself. Answer the request, or hand it to a teammate.';
      if (!others.some((p) => p.id === target)) return `There is no teammate "${to}". The team: ${roster}.`;
      const result = new ToolMessage({ content: `Handed off to ${target}.`, tool_call_id: callId, name: 'handoff' });
      const handoff: HandoffRequest = { from, to: target, message, toolCallId: callId };
      // The persona's model step sees the request when its tool calls are done and goes to the gate.
      return new Command({ update: { messages: [result], handoff } });
    },
    {
      name: 'handoff',
      description: `Hand work to a teammate, who answers in this same thread under their own name. Teammates: ${roster}. Say what you need, with the context they need to act.`,
      schema: z.object({
        to: z.string().describe('the teammate\'s id, e.g. "apollo"'),
        message: z.string().describe('what you ask of them, with the context they need'),
      }),
    },
  );
}
