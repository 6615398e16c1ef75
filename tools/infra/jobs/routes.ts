import type { FastifyInstance, FastifyReply } from 'fastify';
import { scrubSecrets } from '../../../core/log.js';
import type { HumanDirectory } from '../../../core/chat/approvals.js';
import type { ChatCommand } from '../../../core/chat/commands.js';
import { sessionOf } from '../../../core/http/principal.js';
import { publicLogLine, registerJobLogStream } from './log-stream.js';
import type { JobRunner } from './runner.js';
import { JOB_STATUSES, type InfraJob, type JobStatus, type JobStore } from './store.js';

/** A job as the API shows it. */
export type PublicJob = ReturnType<typeof publicJob>;

/** The job's public form: its command with secrets scrubbed, its times ISO strings. */
function publicJob(j: InfraJob) {
  return {
    id: j.id,
    status: j.status,
    host: j.host,
    command: scrubSecrets(j.command),
    kind: j.kind,
    runbook: j.runbook,
    step: j.step,
    persona: j.persona,
    thread: j.thread,
    idempotent: j.idempotent,
    attempts: j.attempts,
    exitCode: j.exitCode,
    signal: j.signal,
    error: j.error,
    remotePid: j.remotePid,
    cancelledBy: j.cancelledBy,
    workItem: j.workItemId,
    logLines: j.logLines,
    logDropped: j.logDropped,
    timeoutSeconds: j.timeoutSeconds,
    createdAt: j.createdAt.toISOString(),
    startedAt: j.startedAt?.toISOString() ?? null,
    finishedAt: j.finishedAt?.toISOString() ?? null,
  };
}

function notFound(reply: FastifyReply, id: string) {
  return reply.code(404).send({ error: { code: 'not_found', message: `no job ${id}`, requestId: reply.request.id } });
}

/**
 * `GET /api/jobs` (newest first; `?thread=`, `?status=`), `GET /api/jobs/:id`,
 * `GET /api/jobs/:id/log` (JSON lines; `?format=text` for plain text; `?after=<seq>` to follow),
 * `GET /api/jobs/:id/log/stream` (SSE, log-stream.ts), `POST /api/jobs/:id/cancel` (`{"user": "..."}`;
 * a console session cancels as its human).
 */
export function registerJobRoutes(app: FastifyInstance, deps: { store: JobStore; runner: JobRunner }): void {
  const { store, runner } = deps;
  app.get<{ Querystring: { thread?: string; status?: string; limit?: string } }>('/api/jobs', async (req) => {
    const status = JOB_STATUSES.includes(req.query.status as JobStatus) ? (req.query.status as JobStatus) : undefined;
    const jobs = await store.list({ thread: req.query.thread, status, limit: Number(req.query.limit) || undefined });
    return { jobs: jobs.map(publicJob) };
  });

  app.get<{ Params: { id: string } }>('/api/jobs/:id', async (req, reply) => {
    const job = await store.get(req.params.id);
    return job ? { job: publicJob(job) } : notFound(reply, req.params.id);
  });

  app.get<{ Params: { id: string }; Querystring: { format?: string; after?: string } }>('/api/jobs/:id/log', async (req, reply) => {
    const job = await store.get(req.params.id);
    if (!job) return notFound(reply, req.params.id);
    const lines = await store.log(job.id, { afterSeq: Number(req.query.after) || 0 });
    if (req.query.format === 'text') {
      return reply.type('text/plain; charset=utf-8').send(lines.map((l) => l.line).join('\n') + (lines.length ? '\n' : ''));
    }
    return {
      job: publicJob(job),
      lines: lines.map(publicLogLine),
      truncated: job.logDropped > 0,
    };
  });

  registerJobLogStream(app, { store, show: publicJob });

  app.post<{ Params: { id: string }; Body: { user?: string } | undefined }>('/api/jobs/:id/cancel', async (req, reply) => {
    // A signed-in human cancels as themself; a script names who it acts for, or is `api`.
    const by = sessionOf(req)?.humanId ?? (typeof req.body?.user === 'string' && req.body.user.trim() ? req.body.user.trim().slice(0, 128) : 'api');
    const result = await runner.cancel(req.params.id, by);
    if (!result.job) return notFound(reply, req.params.id);
    return reply.code(202).send({ job: publicJob(result.job), message: result.message });
  });
}

/**
 * `/cancel <job>` in any chat. With a `humans:` registry, only people in it may cancel (a
 * stranger in a shared channel must not stop a deploy half-way); without one, anyone may.
 */
export function cancelCommand(runner: JobRunner, approvers: Pick<HumanDirectory, 'identify'> & { any(): boolean }): ChatCommand {
  return {
    name: 'cancel',
    args: '<job>',
    description: 'stop a running infra job (e.g. /cancel j-1a2b3c4d)',
    run: async (args, envelope) => {
      const id = args.trim().split(/\s+/)[0];
      if (!id) return 'Usage: /cancel <job>, e.g. /cancel j-1a2b3c4d';
      const human = approvers.identify(envelope.platform, envelope.author.id);
      if (approvers.any() && !human) return `${envelope.author.name || envelope.author.id} is not in the humans: registry, so cannot cancel jobs.`;
      return (await runner.cancel(id, human?.id ?? envelope.author.id)).message;
    },
  };
}
