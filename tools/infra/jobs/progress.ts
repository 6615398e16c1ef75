import { scrubSecrets } from '../../../core/log.js';
import type { OutboxPort } from '../../types.js';
import type { InfraJob, JobStatus } from './store.js';

/** Longest output tail shown in chat: the full log is in the API (edits cannot be split like posts). */
const TAIL_CHARS = 1500;

const ICONS: Record<JobStatus, string> = {
  queued: '⏳',
  running: '⏳',
  succeeded: '✅',
  failed: '❌',
  cancelled: '🛑',
  timed_out: '⌛',
  interrupted: '⚠️',
};

/** `12 s`, `3 min 4 s`. */
export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** The last lines that fit in `max` characters, newest kept. */
export function tailText(lines: string[], max = TAIL_CHARS): string {
  const kept: string[] = [];
  let size = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (size + line.length + 1 > max) break;
    kept.unshift(line);
    size += line.length + 1;
  }
  return kept.join('\n').replace(/```/g, "'''");
}

export interface ProgressView {
  job: Pick<InfraJob, 'id' | 'host' | 'command' | 'status' | 'exitCode' | 'error'>;
  lines: number;
  tail: string[];
  elapsedMs: number;
  /** Why it ended, in words, when that is not obvious from the status. */
  note?: string;
}

/** What the thread shows for a job: one line of state, the output tail, where the full log is. */
export function formatProgress(v: ProgressView): string {
  const { job } = v;
  const running = job.status === 'queued' || job.status === 'running';
  const state = running
    ? `${job.status} (${formatDuration(v.elapsedMs)}, ${v.lines} line${v.lines === 1 ? '' : 's'})`
    : `${job.status.replace('_', ' ')}${job.exitCode !== null ? ` (exit ${job.exitCode})` : ''} after ${formatDuration(v.elapsedMs)}, ${v.lines} line${v.lines === 1 ? '' : 's'}`;
  const parts = [`${ICONS[job.status]} Job ${job.id} on ${job.host}: \`${scrubSecrets(job.command).replace(/`/g, "'").slice(0, 200)}\` — ${state}`];
  const tail = tailText(v.tail);
  if (tail) parts.push('```', tail, '```');
  if (v.note ?? job.error) parts.push(v.note ?? job.error!);
  parts.push(running ? `Stop it: /cancel ${job.id} · full log: GET /api/jobs/${job.id}/log` : `Full log: GET /api/jobs/${job.id}/log`);
  return parts.join('\n');
}

/**
 * A job's one message in its thread: posted once, then edited in place (`replaces`) as output
 * arrives. Edit keys carry the runner's name, so a job taken over by another worker edits anew.
 */
export class ProgressMessage {
  private posted = false;
  private edits = 0;
  private last = '';

  constructor(
    private readonly outbox: OutboxPort,
    private readonly job: Pick<InfraJob, 'id' | 'thread' | 'platform' | 'persona'>,
    private readonly runner: string,
  ) {}

  get key(): string {
    return `infra-job:${this.job.id}:progress`;
  }

  async show(text: string): Promise<void> {
    if (!this.job.thread || !this.job.platform || text === this.last) return;
    this.last = text;
    const base = {
      platform: this.job.platform,
      threadId: this.job.thread,
      role: this.job.persona ? ('agent' as const) : ('system' as const),
      ...(this.job.persona ? { persona: this.job.persona } : {}),
      text,
    };
    if (!this.posted) {
      this.posted = true;
      const { queued } = await this.outbox.send({ ...base, idempotencyKey: this.key });
      if (queued) return;
      // Posted before (by another worker, or before a restart): edit that one instead.
    }
    this.edits++;
    await this.outbox.send({ ...base, idempotencyKey: `${this.key}:edit:${this.runner}:${this.edits}`, replaces: this.key });
  }
}
