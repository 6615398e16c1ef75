import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { InfraConfig } from '../../../core/config/schema.js';
import { scrubSecrets, type Logger } from '../../../core/log.js';
import type { JobQueue } from '../../../core/queue/types.js';
import type { AuditLog } from '../../../core/audit/index.js';
import type { WorkLedger } from '../../../ledger/index.js';
import type { OutboxPort } from '../../types.js';
import type { NotifierPort } from '../../../core/chat/notices.js';
import { runRemote, type OutputStream, type RemoteResult, type RemoteRun } from '../remote-exec.js';
import { HostKeyError, type SshPool } from '../ssh-pool.js';
import { formatProgress, ProgressMessage } from './progress.js';
import { FINISHED, type InfraJob, type JobStatus, type JobStore } from './store.js';

export const INFRA_JOBS_QUEUE = 'infra-jobs';

export type JobSettings = InfraConfig['jobs'];

export interface JobRunnerDeps {
  store: JobStore;
  ssh: SshPool;
  queue: JobQueue;
  outbox: OutboxPort;
  settings: JobSettings;
  ledger?: Pick<WorkLedger, 'ensure' | 'transition' | 'recordEvent'>;
  audit?: Pick<AuditLog, 'recordToolCall'>;
  /** Tells the people who want failures of a job that failed or was interrupted. */
  notifier?: NotifierPort;
  logger: Logger;
}

/** Lines kept in memory for the chat tail; the full log goes to the database. */
const TAIL_LINES = 30;
/** A flush happens at least this often by lines, whatever the interval. */
const FLUSH_LINES = 500;

interface Active {
  run?: RemoteRun;
  cancelled: boolean;
}

/**
 * Runs infra jobs from the `infra-jobs` queue. The job row in Postgres decides: a worker runs a
 * job only after claiming it there (queued → running, with itself as owner), so a job the queue
 * delivers twice runs once. A running job whose worker went silent is orphaned: tried again if
 * idempotent, otherwise reported as interrupted and never run a second time.
 */
export class JobRunner {
  /** This worker's name in `infra_jobs.owner`. */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly active = new Map<string, Active>();
  private readonly timers: NodeJS.Timeout[] = [];
  private stopping = false;

  constructor(private readonly deps: JobRunnerDeps) {}

  /** Puts a job on the queue (again, after a requeue: each try has its own queue id). */
  async enqueue(job: Pick<InfraJob, 'id' | 'attempts'>, delayMs = 0): Promise<void> {
    const queueId = job.attempts === 0 ? job.id : `${job.id}:try-${job.attempts + 1}`;
    await this.deps.queue.add(INFRA_JOBS_QUEUE, 'run', { jobId: job.id }, { jobId: queueId, attempts: 1, ...(delayMs ? { delay: delayMs } : {}) });
  }

  /** Starts the queue worker and the timers that watch for cancels, orphans and liveness. */
  async start(opts: { singleProcess: boolean }): Promise<void> {
    const { settings, store } = this.deps;
    // The embedded queue lives in this process only: what was running when it last stopped was orphaned then.
    await this.sweepOrphans(opts.singleProcess ? 0 : settings.staleAfterSeconds);
    for (const job of await store.queued()) await this.enqueue(job);
    await this.deps.queue.process<{ jobId: string }, void>(INFRA_JOBS_QUEUE, (j) => this.handle(j.data.jobId), { concurrency: settings.concurrency });
    const every = (ms: number, fn: () => Promise<void>) => {
      const t = setInterval(() => void fn().catch((err) => this.deps.logger.warn({ err: (err as Error).message }, 'infra job watcher failed')), ms);
      t.unref();
      this.timers.push(t);
    };
    every(250, () => this.pollCancels());
    every(Math.max(500, (settings.staleAfterSeconds * 1000) / 3), async () => {
      if (this.active.size) await store.heartbeat(this.owner);
    });
    every(Math.max(1000, (settings.staleAfterSeconds * 1000) / 2), () => this.sweepOrphans(settings.staleAfterSeconds));
  }

  /** Stops watching; jobs still running are stopped on their hosts and reported as interrupted (or requeued if idempotent). */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    for (const a of this.active.values()) a.run?.cancel();
    const deadline = Date.now() + 10_000;
    while (this.active.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }

  /**
   * Asks a job to stop: a queued one is cancelled at once; a running one is signalled by its
   * worker (this process right away, another within a fraction of a second).
   */
  async cancel(id: string, by: string): Promise<{ job?: InfraJob; message: string }> {
    const before = await this.deps.store.get(id);
    if (!before) return { message: `No job ${id.trim()}. Job ids look like j-1a2b3c4d (see job_status, or GET /api/jobs).` };
    if (FINISHED.includes(before.status)) return { job: before, message: `Job ${before.id} already ended: ${before.status.replace('_', ' ')}.` };
    const job = await this.deps.store.requestCancel(before.id, by);
    if (!job) return { job: await this.deps.store.get(before.id), message: `Job ${before.id} ended before it could be cancelled.` };
    if (job.status === 'cancelled') {
      await this.report(job, { lines: job.logLines, tail: [], elapsedMs: 0, note: `Cancelled by ${by} before it started.` });
      return { job, message: `Cancelled job ${job.id} before it started.` };
    }
    const mine = this.active.get(job.id);
    if (mine) {
      mine.cancelled = true;
      mine.run?.cancel();
    }
    return { job, message: `Stopping job ${job.id} on ${job.host} (signalling the remote process).` };
  }

  /** The queue handler. */
  private async handle(jobId: string): Promise<void> {
    if (this.stopping) throw new Error('the worker is stopping');
    const job = await this.deps.store.claim(jobId, this.owner);
    if (!job) {
      // Already finished, cancelled, or running under another worker: a re-delivery, not new work.
      this.deps.logger.debug({ job: jobId }, 'infra job not claimable; skipped');
      return;
    }
    await this.execute(job);
  }

  private async execute(job: InfraJob): Promise<void> {
    const { store, settings, logger } = this.deps;
    const started = Date.now();
    const active: Active = { cancelled: false };
    this.active.set(job.id, active);
    const progress = new ProgressMessage(this.deps.outbox, job, this.owner.split(':').slice(1).join('-'));
    const workItemId = await this.openWorkItem(job);
    const tail: string[] = [];
    let lines = job.logLines;
    let buffer: { stream: OutputStream; line: string }[] = [];
    let flushing: Promise<void> = Promise.resolve();
    const flush = (): Promise<void> => {
      const batch = buffer;
      buffer = [];
      flushing = flushing
        .then(async () => {
          await store.appendLog(job.id, batch);
          await progress.show(formatProgress({ job: { ...job, status: 'running' }, lines, tail, elapsedMs: Date.now() - started }));
        })
        .catch((err) => logger.warn({ job: job.id, err: (err as Error).message }, 'could not record job progress'));
      return flushing;
    };
    await progress.show(formatProgress({ job: { ...job, status: 'running' }, lines, tail, elapsedMs: 0 }));
    const ticker = setInterval(() => void flush(), settings.progressIntervalMs);

    let result: RemoteResult | undefined;
    let failure: Error | undefined;
    try {
      active.run = await runRemote(this.deps.ssh, job.host, job.command, {
        timeoutMs: job.timeoutSeconds * 1000,
        onPid: (pid) => void store.setRemotePid(job.id, pid).catch(() => {}),
        onLine: (stream, raw) => {
          const line = scrubSecrets(raw);
          lines++;
          buffer.push({ stream, line });
          tail.push(stream === 'stderr' ? `! ${line}` : line);
          if (tail.length > TAIL_LINES) tail.shift();
          if (buffer.length >= FLUSH_LINES) void flush();
        },
      });
      if (active.cancelled || this.stopping) active.run.cancel();
      result = await active.run.done;
    } catch (err) {
      failure = err as Error;
    } finally {
      clearInterval(ticker);
    }
    await flush();
    await flushing;

    const elapsedMs = Date.now() - started;
    const outcome = this.outcomeOf(job, result, failure);
    if (outcome.retry && (await store.requeue(job.id, this.owner, outcome.error ?? 'retrying'))) {
      this.active.delete(job.id);
      await progress.show(
        formatProgress({ job: { ...job, status: 'queued' }, lines, tail, elapsedMs, note: `${outcome.error}; trying again (attempt ${job.attempts + 1} of ${settings.retries + 1}).` }),
      );
      await this.enqueue(job, this.stopping ? 0 : 1000 * 2 ** (job.attempts - 1));
      return;
    }
    if (outcome.status === 'queued') outcome.status = 'interrupted';
    const finished = await store.finish(job.id, this.owner, outcome);
    this.active.delete(job.id);
    const final = finished ?? (await store.get(job.id)) ?? job;
    await this.report({ ...final, workItemId: workItemId ?? final.workItemId }, { lines, tail, elapsedMs, progress });
  }

  private outcomeOf(
    job: InfraJob,
    result: RemoteResult | undefined,
    failure: Error | undefined,
  ): { status: JobStatus; exitCode?: number | null; signal?: string | null; error?: string; retry?: boolean } {
    const canRetry = job.idempotent && job.attempts <= this.deps.settings.retries && !this.stopping;
    if (failure) {
      const error = scrubSecrets(failure.message);
      return { status: 'failed', error, retry: canRetry && !(failure instanceof HostKeyError) };
    }
    const r = result!;
    if (this.stopping && !this.active.get(job.id)?.cancelled) {
      return job.idempotent
        ? { status: 'queued', error: 'the worker stopped while it ran', retry: true }
        : { status: 'interrupted', signal: r.signal, error: 'The worker stopped while the job ran; the remote process was signalled to stop.' };
    }
    if (r.cancelled) return { status: 'cancelled', exitCode: r.exitCode, signal: r.signal };
    if (r.timedOut) return { status: 'timed_out', exitCode: r.exitCode, signal: r.signal, error: `Stopped after the timeout of ${job.timeoutSeconds} s.` };
    if (r.lost) return { status: 'failed', error: `the connection to ${job.host} was lost while the job ran`, retry: canRetry };
    return r.exitCode === 0 ? { status: 'succeeded', exitCode: 0 } : { status: 'failed', exitCode: r.exitCode, signal: r.signal };
  }

  /** Cancels requested elsewhere (API, another process) for jobs this worker runs. */
  private async pollCancels(): Promise<void> {
    if (!this.active.size) return;
    for (const id of await this.deps.store.cancelRequested(this.owner)) {
      const a = this.active.get(id);
      if (a && !a.cancelled) {
        a.cancelled = true;
        a.run?.cancel();
      }
    }
  }

  /** Jobs whose worker went silent: idempotent ones go back to the queue, the rest are reported interrupted. */
  private async sweepOrphans(staleSeconds: number): Promise<void> {
    for (const job of await this.deps.store.orphaned(staleSeconds)) {
      if (this.active.has(job.id)) continue;
      if (job.idempotent && job.attempts <= this.deps.settings.retries && (await this.deps.store.requeue(job.id, job.owner, 'its worker stopped'))) {
        this.deps.logger.info({ job: job.id }, 'orphaned idempotent infra job requeued');
        await this.enqueue(job);
        continue;
      }
      const note = job.idempotent
        ? 'Interrupted: the worker running it stopped, and it has been tried as often as allowed.'
        : 'Interrupted: the worker running it stopped. It was not run again because it is not marked idempotent; check the host before retrying.';
      const finished = await this.deps.store.finish(job.id, job.owner, { status: 'interrupted', error: note });
      if (finished) {
        this.deps.logger.warn({ job: job.id, owner: job.owner }, 'infra job interrupted: its worker stopped');
        const tail = (await this.deps.store.tail(job.id, TAIL_LINES)).map((l) => l.line);
        await this.report(finished, { lines: finished.logLines, tail, elapsedMs: Date.now() - (finished.startedAt ?? finished.createdAt).getTime() });
      }
    }
  }

  private async openWorkItem(job: InfraJob): Promise<string | undefined> {
    if (!this.deps.ledger) return undefined;
    try {
      const { item } = await this.deps.ledger.ensure({
        kind: 'job',
        title: scrubSecrets(`${job.host}: ${job.command}`).slice(0, 200),
        originThread: job.thread,
        originPlatform: job.platform,
        owner: job.persona,
        state: 'in_progress',
        dedupeKey: `infra-job:${job.id}`,
        actor: job.persona ?? 'pantheon',
      });
      if (item.id !== job.workItemId) await this.deps.store.setWorkItem(job.id, item.id);
      return item.id;
    } catch (err) {
      this.deps.logger.warn({ job: job.id, err: (err as Error).message }, 'could not record the job in the work ledger');
      return undefined;
    }
  }

  /** The end of a job: its message in the thread, the ledger, the audit log. */
  private async report(job: InfraJob, v: { lines: number; tail: string[]; elapsedMs: number; note?: string; progress?: ProgressMessage }): Promise<void> {
    const progress = v.progress ?? new ProgressMessage(this.deps.outbox, job, this.owner.split(':').slice(1).join('-'));
    try {
      await progress.show(formatProgress({ job, lines: v.lines, tail: v.tail, elapsedMs: v.elapsedMs, note: v.note }));
    } catch (err) {
      this.deps.logger.warn({ job: job.id, err: (err as Error).message }, 'could not post the job result');
    }
    const actor = job.persona ?? 'pantheon';
    if (job.status === 'failed' || job.status === 'interrupted') {
      const why = [job.exitCode !== null ? `exit ${job.exitCode}` : '', job.error ?? ''].filter(Boolean).join('; ');
      await this.deps.notifier
        ?.notify({
          kind: 'failures',
          key: `infra-job:${job.id}:${job.status}`,
          text: `Infra job ${job.id} ${job.status} on ${job.host}${why ? ` (${scrubSecrets(why)})` : ''}: \`${scrubSecrets(job.command).slice(0, 200)}\``,
          to: 'everyone',
          ...(job.thread ? { thread: job.thread } : {}),
        })
        .catch((err) => this.deps.logger.warn({ job: job.id, err: (err as Error).message }, 'could not tell people the job failed'));
    }
    try {
      if (this.deps.ledger && job.workItemId) {
        await this.deps.ledger.recordEvent(job.workItemId, { actor, kind: 'job_finished', detail: { job: job.id, status: job.status, exitCode: job.exitCode, lines: v.lines } });
        await this.deps.ledger.transition(job.workItemId, job.status === 'succeeded' ? 'done' : 'blocked', { actor, note: `job ${job.id} ${job.status}` });
      }
      await this.deps.audit?.recordToolCall({
        persona: actor,
        thread: job.thread ?? '',
        tool: 'infra_job',
        args: { job: job.id, host: job.host, command: scrubSecrets(job.command) },
        outcome: job.status,
        durationMs: v.elapsedMs,
        detail: [job.exitCode !== null ? `exit ${job.exitCode}` : '', job.error ?? v.note ?? ''].filter(Boolean).join('; ') || undefined,
      });
    } catch (err) {
      this.deps.logger.warn({ job: job.id, err: (err as Error).message }, 'could not record the job outcome');
    }
  }
}
