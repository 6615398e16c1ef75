import type { ChatCommand } from '../core/chat/commands.js';
import { isApprovalInterrupt } from './approvals/types.js';
import type { ThreadContext } from './graph/context.js';
import type { TeamGraph } from './graph/team-graph.js';

/**
 * `/new` (also `/reset`): a fresh context in this thread. The transcript stays (for audit and
 * search: the earlier messages move to the transcript archive with the thread's next model step);
 * only where the context starts moves, so the next model call is sent none of the earlier
 * messages and no summary.
 * Answered before routing, while the drain holds the thread, so no run writes the state meanwhile.
 */
export function newContextCommand(graph: Pick<TeamGraph, 'getState' | 'updateState'>): ChatCommand {
  return {
    name: 'new',
    aliases: ['reset'],
    description: 'a fresh context in this thread: earlier messages stay in the history but are no longer sent to the team',
    accepts: (args) => args === '',
    run: async (_args, envelope) => {
      const config = { configurable: { thread_id: envelope.threadId } };
      const state = await graph.getState(config);
      const waiting = state.tasks
        .flatMap((t) => t.interrupts ?? [])
        .map((i) => i.value)
        .find(isApprovalInterrupt);
      if (waiting) return `This thread is waiting for approval ${waiting.approvalId}: decide it first (approve or deny), then start a fresh context with /new.`;
      const values = state.values as { messages?: unknown[]; context?: ThreadContext };
      // Places in the whole thread: the state holds its messages after the `dropped` archived ones.
      const dropped = values.context?.dropped ?? 0;
      const end = dropped + (values.messages ?? []).length;
      const unseen = end - Math.min(values.context?.from ?? 0, end);
      if (!unseen) return 'This thread has no earlier context: the team starts fresh here already.';
      const context: ThreadContext = { from: end, folded: end, summary: '', dropped };
      // As the `next` node: it routes by Command only, so the update schedules nothing.
      await graph.updateState(config, { context }, 'next');
      return `Fresh context: the team will not be sent the ${unseen} earlier messages of this thread (they stay in its history).`;
    },
  };
}
