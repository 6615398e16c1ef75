import { randomUUID } from 'node:crypto';
import { withRun } from '../../agents/run-context.js';
import { internalErrorText, reportInternalError } from '../../core/internal-error.js';
import { isApprovalInterrupt } from '../approvals/types.js';
import { failureOf, turnInfo, type TurnFailure, type TurnInfo } from '../graph/state.js';
import type { TurnDeps } from './deps.js';
import type { Round, ThreadView } from './round.js';
import { answered } from './thread-sql.js';

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
  const values = state.values as { turn?: TurnInfo | null; failure?: TurnFailure | null };
  const turn = turnInfo(values.turn);
  return { interrupts, next: [...state.next], turn, failure: failureOf(values.failure, turn) };
}

/**
 * Runs the graph (a new turn, a resume, or the rest of a crashed run) and answers where the
 * thread stands after it. The run is recorded with the drain's end, with `finishes`, the inbound
 * messages it answers, marked as the turn ended for them: done, failed (the run failed, or a
 * persona could not answer: what the chat was told), or paused on an approval (marked again when
 * the run resumes). A failed run is told to the chat by its reference; its error stays in the log
 * and the run's record.
 */
export async function runGraph(r: Pick<Round, 'deps' | 'thread' | 'finish'>, platform: string, input: unknown, turn: TurnInfo | null, finishes: string[] = []): Promise<ThreadView> {
  const { deps, thread: threadId, finish } = r;
  const runId = randomUUID();
  const started = performance.now();
  const startedAt = new Date();
  const first = turn?.inboundIds[0] ?? null;
  let outcome = 'ok';
  let error: string | null = null;
  let view: ThreadView | undefined;
  /** What the chat was told when the turn ended without an answer. */
  let told: string | null = null;
  try {
    const result = (await withRun({ runId, persona: 'team' }, () => deps.graph.invoke(input as never, graphConfig(deps, threadId, platform, first ?? undefined, turn?.requestedBy)))) as {
      __interrupt__?: Array<{ value: unknown }>;
      turn?: TurnInfo | null;
      failure?: TurnFailure | null;
    };
    const interrupts = (result.__interrupt__ ?? []).map((i) => i.value).filter(isApprovalInterrupt);
    const ran = turnInfo(result.turn) ?? turn;
    told = failureOf(result.failure, ran);
    view = { interrupts, next: interrupts.length ? ['paused'] : [], turn: ran, failure: told };
    return view;
  } catch (err) {
    outcome = 'error';
    error = (err as Error)?.message ?? String(err);
    // The chat learns that it failed and its reference; the error's text (a database's refusal
    // names tables and values) stays in the log and the run's record.
    const { ref } = reportInternalError(deps.logger, err, { thread: threadId, run: runId }, 'team run failed');
    told = internalErrorText('The team could not answer', ref);
    await deps.outbox.send({
      idempotencyKey: `${threadId}:run-failed:${first ?? runId}`,
      platform,
      threadId,
      role: 'system',
      replyTo: first ?? undefined,
      text: told,
    });
    view = await readThread(deps, threadId);
    return view;
  } finally {
    deps.metrics.runs.inc({ persona: 'team', outcome });
    deps.metrics.runDuration.observe({ persona: 'team' }, (performance.now() - started) / 1000);
    finish.runs.push({ id: runId, inbound: first, status: outcome === 'ok' ? 'done' : 'failed', startedAt, finishedAt: new Date(), error: error?.slice(0, 2000) ?? null });
    const paused = outcome === 'ok' && !!view?.interrupts.length;
    answered(finish, finishes, told ? { status: 'failed', error: told } : paused ? { status: 'paused' } : { status: 'done' });
  }
}
