import { Command } from '@langchain/langgraph';
import { isApprovalInterrupt, type ApprovalInterrupt, type ApprovalResume } from '../../orchestrator/approvals/types.js';

/** An interrupt as LangGraph reports it (`result.__interrupt__`, `state.tasks[].interrupts`). */
export interface PendingInterrupt {
  id?: string;
  value?: unknown;
}

/** The approval interrupts among a thread's pending ones, from `graph.getState(config)`. */
export function pendingApprovalInterrupts(state: { tasks?: ReadonlyArray<{ interrupts?: readonly PendingInterrupt[] }> }): Array<PendingInterrupt & { value: ApprovalInterrupt }> {
  return (state.tasks ?? []).flatMap((t) => t.interrupts ?? []).filter((i): i is PendingInterrupt & { value: ApprovalInterrupt } => isApprovalInterrupt(i.value));
}

/**
 * The `Command` that resumes the tool call waiting on `approvalId` with the answer. Keyed by
 * the interrupt id, because a persona may have several calls waiting at once (parallel tool
 * calls): the others stay paused, and ask again without posting twice. Undefined when no
 * pending interrupt belongs to that approval (already resumed, or another thread).
 */
export function resumeCommandFor(pending: readonly PendingInterrupt[], approvalId: string, resume: ApprovalResume): Command | undefined {
  const match = pending.find((i) => isApprovalInterrupt(i.value) && i.value.approvalId === approvalId);
  if (!match) return undefined;
  return new Command({ resume: match.id ? { [match.id]: resume } : resume });
}
