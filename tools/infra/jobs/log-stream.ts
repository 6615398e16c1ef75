import type { FastifyInstance } from 'fastify';
import { FINISHED, type InfraJob, type JobStore } from './store.js';

export interface JobLogStreamOptions {
  store: Pick<JobStore, 'get' | 'log'>;
  /** The job as the API shows it. */
  show: (job: InfraJob) => unknown;
  pollIntervalMs?: number;
  heartbeatMs?: number;
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
    let closed = false;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': req.id,
    });
    res.write(': connected\n\n');
    const send = (event: string, data: unknown, id?: number) => {
      if (!closed) res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    let timer: NodeJS.Timeout | undefined;
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
    heartbeat.unref();
    const close = () => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      clearInterval(heartbeat);
      res.end();
    };
    req.raw.on('close', close);
    res.on('close', close);

    const look = async (): Promise<void> => {
      try {
        const job = (await opts.store.get(first.id)) ?? first;
        // The log is read after the status: a finished job's last lines are in before `end`.
        for (const line of await opts.store.log(job.id, { afterSeq: seq })) {
          seq = line.seq;
          send('line', { seq: line.seq, stream: line.stream, text: line.line, at: line.at.toISOString() }, line.seq);
        }
        if (job.status !== status) {
          status = job.status;
          send('job', opts.show(job));
        }
        if (FINISHED.includes(job.status)) {
          send('end', opts.show(job));
          return close();
        }
      } catch (err) {
        req.log.warn({ err }, 'job log stream failed to read');
      }
      if (!closed) timer = setTimeout(() => void look(), pollMs);
    };
    await look();
  });
}
