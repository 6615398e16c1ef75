import { randomUUID } from 'node:crypto';
import { withRun } from '../../agents/run-context.js';
import { internalErrorText, reportInternalError } from '../../core/internal-error.js';
import { isApprovalInterrupt } from '../approvals/types.js';
import { turnInfo, type TurnInfo } from '../graph/state.js';
import type { TurnDeps } from './deps.js';
import type { Round, ThreadView } from './round.js';

const graphConfig = (deps: TurnDeps, threadId: string, platform: string, inbound?: string, requestedBy?: string) => ({
  configurable: { thread_id: threadId, pantheon_platform: platform, pantheon_inbound: inbound, pantheon_requested_by: requestedBy },
  durability: deps.durability,
  recursionLimit: 100,
});

/** Where the thread's graph stands, from its checkpoint. */
export async function readThread(deps: TurnDeps, threadId: string): Promise<ThreadView> {
  const state = await deps.graph.getState({ configurable: { thread_id: threadId } });
  const interrupts = state.tasks
    .flatMap((t) => t.interrupts ?? [])
    .map((i) => i.value)
    .filter(isApprovalInterrupt);
  return { interrupts, next: [...state.next], turn: turnInfo((state.values as { turn?: TurnInfo | null }).turn) };
}

/**
 * Runs the graph (a new turn, a resume, or the rest of a crashed run) and answers where the
 * thread stands after it. The run is recorded with the drain's end, with `finishes`, the inbound
 * messages it answers. A failed run is told to the chat by its reference; its error stays in the
 * log and the run's record.
 */
export async function runGraph(r: Pick<Round, 'deps' | 'thread' | 'finish'>, platform: string, input: unknown, turn: TurnInfo | null, finishes: string[] = []): Promise<ThreadView> {
  const { deps, thread: threadId, finish } = r;
  const runId = randomUUID();
  const started = performance.now();
  const startedAt = new Date();
  const first = turn?.inboundIds[0] ?? null;
  let outcome = 'ok';
  let error: string | null = null;
  try {
    const result = (await withRun({ runId, persona: 'team' }, () => deps.graph.invoke(input as never, graphConfig(deps, threadId, platform, first ?? undefined, turn?.requestedBy)))) as {
      __interrupt__?: Array<{ value: unknown }>;
      turn?: TurnInfo | null;
    };
    const interrupts = (result.__interrupt__ ?? []).map((i) => i.value).filter(isApprovalInterrupt);
    return { interrupts, next: interrupts.length ? ['paused'] : [], turn: turnInfo(result.turn) ?? turn };
  } catch (err) {
    outcome = 'error';
    error = (err as Error)?.message ?? String(err);
    // The chat learns that it failed and its reference; the error's text (a database's refusal
    // names tables and values) stays in the log and the run's record.
    const { ref } = reportInternalError(deps.logger, err, { thread: threadId, run: runId }, 'team run failed');
    await deps.outbox.send({
      idempotencyKey: `${threadId}:run-failed:${first ?? runId}`,
      platform,
      threadId,
      role: 'system',
      replyTo: first ?? undefined,
      text: internalErrorText('The team could not answer', ref),
    });
    return readThread(deps, threadId);
  } finally {
    deps.metrics.runs.inc({ persona: 'team', outcome });
    deps.metrics.runDuration.observe({ persona: 'team' }, (performance.now() - started) / 1000);
    finish.runs.push({ id: runId, inbound: first, status: outcome === 'ok' ? 'done' : 'failed', startedAt, finishedAt: new Date(), error: error?.slice(0, 2000) ?? null });
    finish.done.push(...finishes);
  }
}
