import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { useEventStream } from '../live.js';
import { useLoad, usePoll } from '../load.js';
import { href } from '../router.js';
import type { Job, JobLogLine } from '../types.js';
import { Badge, Empty, Failure, Loading, Time } from '../ui/bits.js';
import { Ref, ThreadLink } from '../ui/refs.js';

const FINISHED = ['succeeded', 'failed', 'cancelled', 'timed_out', 'interrupted'];
const STATUS_TONE: Record<string, 'ok' | 'warn' | 'bad' | 'info' | 'muted'> = {
  queued: 'muted',
  running: 'info',
  succeeded: 'ok',
  failed: 'bad',
  cancelled: 'warn',
  timed_out: 'bad',
  interrupted: 'bad',
};

export function JobsView({ id }: { id: string | undefined }) {
  return id ? <JobLive key={id} id={id} /> : <JobList />;
}

function JobList() {
  const jobs = useLoad('jobs', () => api.get<{ jobs: Job[] }>('/api/jobs?limit=100'));
  usePoll(jobs.reload, 3000);
  if (jobs.error && !jobs.data)
    return <Failure error={/not found|404/i.test(jobs.error) ? 'No infrastructure is configured (infra: in pantheon.yaml), so there are no jobs.' : jobs.error} retry={jobs.reload} />;
  if (!jobs.data) return <Loading />;
  if (jobs.data.jobs.length === 0) return <Empty>No infrastructure jobs yet.</Empty>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Status</th>
            <th scope="col">Host</th>
            <th scope="col">Command</th>
            <th scope="col">Persona</th>
            <th scope="col">Started</th>
          </tr>
        </thead>
        <tbody>
          {jobs.data.jobs.map((j) => (
            <tr key={j.id}>
              <td>
                <a class="mono" href={href('jobs', j.id)}>
                  {j.id}
                </a>
              </td>
              <td>
                <Badge tone={STATUS_TONE[j.status]}>{j.status.replace(/_/g, ' ')}</Badge>
              </td>
              <td>{j.host}</td>
              <td class="mono">{j.runbook ? `runbook ${j.runbook}` : j.command}</td>
              <td>{j.persona ?? '—'}</td>
              <td>
                <Time at={j.startedAt ?? j.createdAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface LogAnswer {
  job: Job;
  lines: JobLogLine[];
  truncated: boolean;
}

/** A job and its log: the lines so far, then each new one from the log's event stream, until the job ends. */
function JobLive({ id }: { id: string }) {
  const path = `/api/jobs/${encodeURIComponent(id)}/log`;
  const log = useLoad(path, () => api.get<LogAnswer>(path));
  const [cancelMessage, setCancelMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const finished = log.data ? FINISHED.includes(log.data.job.status) : false;
  const setJob = (job: unknown) => log.set((old) => (old ? { ...old, job: job as Job } : old));
  const live = useEventStream(finished || !log.data ? null : `${path}/stream`, {
    line: (line) =>
      log.set((old) => {
        const l = line as JobLogLine;
        if (!old || old.lines.some((x) => x.seq === l.seq)) return old;
        return { ...old, lines: [...old.lines, l].sort((a, b) => a.seq - b.seq) };
      }),
    job: setJob,
    end: setJob,
  });
  // The stream closes when the job ends: read the log once more for lines that came with the end.
  const followed = useRef(false);
  if (log.data && !finished) followed.current = true;
  useEffect(() => {
    if (finished && followed.current) log.reload();
  }, [finished, log.reload]);
  // A followed log stays at its newest line, unless the reader scrolled up to read.
  const pre = useRef<HTMLPreElement>(null);
  const atBottom = useRef(true);
  const lineCount = log.data?.lines.length ?? 0;
  useEffect(() => {
    if (lineCount && atBottom.current && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [lineCount]);
  const cancel = async () => {
    setError(null);
    try {
      const answer = await api.post<{ job: Job; message: string }>(`/api/jobs/${encodeURIComponent(id)}/cancel`);
      setCancelMessage(answer.message);
      setJob(answer.job);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <>
      <p>
        <a href={href('jobs')}>← All jobs</a>
      </p>
      {log.error && !log.data && <Failure error={log.error} retry={log.reload} />}
      {!log.data && !log.error && <Loading />}
      {log.data && (
        <>
          <h2>
            <span class="mono">{log.data.job.id}</span> on {log.data.job.host}{' '}
            <Badge tone={STATUS_TONE[log.data.job.status]}>
              <span data-testid="job-status">{log.data.job.status.replace(/_/g, ' ')}</span>
            </Badge>{' '}
            {!finished && (
              <span class="live muted" role="status">
                {live === 'live' ? '● live' : live}
              </span>
            )}
          </h2>
          <div class="card">
            <dl>
              <dt>Command</dt>
              <dd class="mono">{log.data.job.runbook ? `runbook ${log.data.job.runbook}` : log.data.job.command}</dd>
              <dt>Persona</dt>
              <dd>{log.data.job.persona ?? '—'}</dd>
              <dt>Conversation</dt>
              <dd>
                <ThreadLink thread={log.data.job.thread} />
              </dd>
              <dt>Work item</dt>
              <dd>
                <Ref value={log.data.job.workItem} />
              </dd>
              <dt>Started</dt>
              <dd>
                <Time at={log.data.job.startedAt} />
              </dd>
              <dt>Finished</dt>
              <dd>
                <Time at={log.data.job.finishedAt} />
                {log.data.job.exitCode !== null && ` exit ${log.data.job.exitCode}`}
                {log.data.job.cancelledBy && ` cancelled by ${log.data.job.cancelledBy}`}
                {log.data.job.error && ` (${log.data.job.error})`}
              </dd>
            </dl>
            {!finished && (
              <div class="actions">
                <button type="button" class="danger" onClick={cancel}>
                  Cancel
                </button>
              </div>
            )}
            {cancelMessage && <p role="status">{cancelMessage}</p>}
            {error && (
              <p class="failure" role="alert">
                {error}
              </p>
            )}
          </div>
          <h2>Log</h2>
          {log.data.truncated && <p class="muted">The start of the log was dropped (it went over its limit).</p>}
          <pre
            class="log"
            ref={pre}
            data-testid="job-log"
            onScroll={(e) => {
              const el = e.currentTarget as HTMLPreElement;
              atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
            }}
          >
            {log.data.lines.map((l) => (l.stream === 'stderr' ? `! ${l.text}` : l.text)).join('\n')}
          </pre>
        </>
      )}
    </>
  );
}
