import { scrubSecrets } from '../../../core/log.js';
import type { ToolCall } from '../../types.js';
import { formatDuration, tailText } from './progress.js';
import type { JobRunner, JobSettings } from './runner.js';
import { callKey, FINISHED, type InfraJob, type JobStore, type NewJob } from './store.js';

export interface JobDispatchDeps {
  store: JobStore;
  runner: JobRunner;
  settings: JobSettings;
}

/** Output handed back to the model: enough to reason about, never the whole log. */
const TOOL_TAIL_LINES = 60;
const TOOL_TAIL_CHARS = 3000;

/**
 * Starts a job for a tool call, or finds the one this call already started (a run resumed after
 * an approval or a crash calls the tool again with the same call), then waits a little for it.
 */
export async function dispatchJob(deps: JobDispatchDeps, tool: string, args: unknown, call: ToolCall, job: Omit<NewJob, 'callKey' | 'persona' | 'thread' | 'platform'>): Promise<string> {
  const key = callKey([call.threadId, call.id, tool, args]);
  const { job: created } = await deps.store.create({ ...job, callKey: key, persona: call.persona, thread: call.threadId, platform: call.platform });
  // Also when found again: if the first try died between create and enqueue, this puts it on the queue (ids dedupe).
  if (created.status === 'queued' && created.attempts === 0) await deps.runner.enqueue(created);
  const settled = await waitForJob(deps.store, created.id, deps.settings.waitSeconds * 1000);
  return describeJobForModel(deps.store, settled);
}

/** Polls the job row until it ends or `ms` pass. */
export async function waitForJob(store: JobStore, id: string, ms: number): Promise<InfraJob> {
  const deadline = Date.now() + ms;
  for (;;) {
    const job = await store.get(id);
    if (!job) throw new Error(`job ${id} disappeared`);
    if (FINISHED.includes(job.status) || Date.now() >= deadline) return job;
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** A job's state and output tail, as tool output. */
export async function describeJobForModel(store: JobStore, job: InfraJob): Promise<string> {
  const head = `Job ${job.id} on ${job.host}: \`${scrubSecrets(job.command)}\``;
  const tail = tailText(
    (await store.tail(job.id, TOOL_TAIL_LINES)).map((l) => (l.stream === 'stderr' ? `! ${l.line}` : l.line)),
    TOOL_TAIL_CHARS,
  );
  const count = `${job.logLines} line${job.logLines === 1 ? '' : 's'}${job.logDropped ? ` (+${job.logDropped} not kept)` : ''}`;
  if (!FINISHED.includes(job.status)) {
    return [
      `${head} is ${job.status} (${count} so far). Its progress streams to the thread.`,
      tail ? `Latest output:\n${tail}` : '',
      `Check it later with job_status {"job": "${job.id}"}; stop it with cancel_job or "/cancel ${job.id}".`,
    ]
      .filter(Boolean)
      .join('\n');
  }
  const took = job.startedAt && job.finishedAt ? ` in ${formatDuration(job.finishedAt.getTime() - job.startedAt.getTime())}` : '';
  const exit = job.exitCode !== null ? ` (exit ${job.exitCode})` : job.signal ? ` (${job.signal})` : '';
  return [
    `${head} ${job.status.replace('_', ' ')}${exit}${took}, ${count}.`,
    job.error ? job.error : '',
    tail ? `Output${job.logLines > TOOL_TAIL_LINES ? ` (last lines; full log: GET /api/jobs/${job.id}/log)` : ''}:\n${tail}` : 'No output.',
  ]
    .filter(Boolean)
    .join('\n');
}
