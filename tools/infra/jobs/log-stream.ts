import type { FastifyInstance } from 'fastify';
import { openEventStream } from '../../../core/http/event-stream.js';
import { FINISHED, type InfraJob, type JobStore, type LogLine } from './store.js';

export interface JobLogStreamOptions {
  store: Pick<JobStore, 'get' | 'log'>;
  /** The job as the API shows it. */
  show: (job: InfraJob) => unknown;
  pollIntervalMs?: number;
  heartbeatMs?: number;
}

/** A log line as the API shows it (`/log` and the stream's `line` events). */
export function publicLogLine(line: LogLine) {
  return { seq: line.seq, stream: line.stream, text: line.line, at: line.at.toISOString() };
}

/**
 * `GET /api/jobs/:id/log/stream`: Server-Sent Events of a job's log as it is written (`line`,
 * its `id` the line's seq, so `Last-Event-ID` resumes), the job again whenever its status changes
 * (`job`), and `end` with the finished job, after which the stream closes. The log is in the
 * database (whichever worker runs the job writes it there), so the stream polls it.
 */
export function registerJobLogStream(app: FastifyInstance, opts: JobLogStreamOptions): void {
  const pollMs = opts.pollIntervalMs ?? 500;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  app.get<{ Params: { id: string } }>('/api/jobs/:id/log/stream', async (req, reply) => {
    const first = await opts.store.get(req.params.id);
    if (!first) return reply.code(404).send({ error: { code: 'not_found', message: `no job ${req.params.id}`, requestId: req.id } });
    const resumeAt = Number(req.headers['last-event-id']);
    let seq = Number.isFinite(resumeAt) && resumeAt > 0 ? resumeAt : 0;
    let status = '';
    const stream = openEventStream(req, reply, heartbeatMs);
    let timer: NodeJS.Timeout | undefined;
    stream.onClose(() => clearTimeout(timer));

    const look = async (): Promise<void> => {
      try {
        const job = (await opts.store.get(first.id)) ?? first;
        // The log is read after the status: a finished job's last lines are in before `end`.
        for (const line of await opts.store.log(job.id, { afterSeq: seq })) {
          seq = line.seq;
          stream.send('line', publicLogLine(line), line.seq);
        }
        if (job.status !== status) {
          status = job.status;
          stream.send('job', opts.show(job));
        }
        if (FINISHED.includes(job.status)) {
          stream.send('end', opts.show(job));
          return stream.close();
        }
      } catch (err) {
        req.log.warn({ err }, 'job log stream failed to read');
      }
      if (!stream.closed) timer = setTimeout(() => void look(), pollMs);
    };
    await look();
  });
}
