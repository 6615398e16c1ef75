import { z } from 'zod';
import type { OutboxPort, PantheonTool } from '../tools/types.js';
import { FINISHED_STATES, WORK_STATES, type WorkItem, type WorkLedger } from '../ledger/index.js';

/**
 * The ledger as tools: what is in flight, and progress or state changes on a work item. Progress
 * is also posted to the thread the work came from, when that is not the thread the persona is in.
 */
export function ledgerTools(ledger: WorkLedger, outbox: OutboxPort, onFinished?: (item: WorkItem) => Promise<void>): PantheonTool[] {
  const inFlight: PantheonTool = {
    name: 'work_in_flight',
    description: "List the team's work in flight (not done or merged): id, owner, title, state, where it was asked. Optionally only one owner's.",
    risk: 'read',
    schema: z.object({ owner: z.string().optional().describe('a persona id, to list only their work') }),
    async run({ owner }) {
      return ledger.summarizeInFlight(await ledger.inFlight({ owner: owner || undefined }));
    },
  };

  const tellOrigin = async (id: string, callId: string, threadId: string, persona: string, text: string) => {
    const item = await ledger.get(id);
    if (!item?.originThread || item.originThread === threadId || !item.originPlatform) return;
    await outbox.send({ idempotencyKey: `tool:${threadId}:${callId}:origin`, platform: item.originPlatform, threadId: item.originThread, role: 'agent', persona, text: `[${item.id}] ${text}` });
  };

  const progress: PantheonTool = {
    name: 'report_progress',
    description: 'Record progress on a work item (e.g. W-3); it is also posted to the thread where the work was asked for.',
    risk: 'write',
    schema: z.object({ work_item: z.string(), text: z.string().min(1) }),
    async run({ work_item, text }, call) {
      const item = await ledger.get(work_item);
      if (!item) return `No work item ${work_item}.`;
      await ledger.recordProgress(item.id, { actor: call.persona, text });
      await tellOrigin(item.id, call.id, call.threadId, call.persona, text);
      return `Progress recorded on ${item.id}.`;
    },
  };

  const update: PantheonTool = {
    name: 'update_work_item',
    description: `Move a work item to a new state (${WORK_STATES.join(', ')}), with a short note; the origin thread is told.`,
    risk: 'write',
    schema: z.object({ work_item: z.string(), state: z.enum(WORK_STATES), note: z.string().optional() }),
    async run({ work_item, state, note }, call) {
      const item = await ledger.get(work_item);
      if (!item) return `No work item ${work_item}.`;
      const after = await ledger.transition(item.id, state, { actor: call.persona, note });
      await tellOrigin(item.id, call.id, call.threadId, call.persona, `${after.title}: now ${state}${note ? ` (${note})` : ''}`);
      if (FINISHED_STATES.includes(after.state) && item.state !== after.state) await onFinished?.(after);
      return `${after.id} is now ${after.state}.`;
    },
  };

  return [inFlight, progress, update];
}
