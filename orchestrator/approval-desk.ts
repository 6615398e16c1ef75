import type { JobQueue } from '../core/queue/types.js';
import { INGRESS_QUEUE } from './ingress.js';

/** The desk itself is in orchestrator/approvals/desk.ts (re-exported for orchestrator/turn.ts's import). */
export { ApprovalDesk } from './approvals/desk.js';

/** The desk's `drain`: another look at a thread through the ingress queue, which resumes a decided run. */
export function scheduleDrain(queue: JobQueue) {
  return async (threadId: string) => {
    await queue.add(INGRESS_QUEUE, 'drain', { drain: threadId }, { jobId: `drain:${threadId}:${Date.now()}:${Math.random().toString(36).slice(2, 6)}` });
  };
}
