import { z } from 'zod';
import type { PantheonTool } from '../types.js';
import { CHARS_PER_TOKEN } from './diff-budget.js';
import { onGitHub } from './errors.js';
import { parseRepo, shortRef, type RepoRef } from './repo-ref.js';
import type { GitHubSession } from './session.js';
import { oneLine, untrusted, UNTRUSTED_NOTE } from './untrusted.js';

const DEFAULT_LOG_TOKENS = 4_000;
/** More failing runs than this are named, not read: their logs would only crowd each other out. */
const MAX_LOGS = 6;
const FAILED = new Set(['failure', 'timed_out', 'cancelled', 'action_required', 'startup_failure']);

const schema = z.object({
  repo: z.string().min(3).describe('The repository, as owner/repo'),
  number: z.number().int().positive().describe('The pull request number'),
  max_tokens: z.number().int().min(500).max(20_000).optional().describe(`Budget for all log text together (default ${DEFAULT_LOG_TOKENS})`),
});

/** A check run as GitHub lists it (only what the tool reads). */
interface CheckRunJson {
  id: number;
  name: string;
  status: string;
  conclusion: string | null;
  html_url?: string | null;
  app?: { slug?: string } | null;
  output?: { title?: string | null; summary?: string | null; text?: string | null } | null;
}

/**
 * The end of a log within `maxChars`: Actions' timestamps and colour codes removed, whole lines
 * from the bottom (where the error is), and a note of how much was left out above.
 */
export function logTail(log: string, maxChars: number): string {
  const lines = log
    .replace(/\r\n?/g, '\n')
    .replace(/\u001b\[[0-9;]*[A-Za-z]/g, '')
    .split('\n')
    .map((l) => l.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?/, ''));
  while (lines.length && !lines.at(-1)!.trim()) lines.pop();
  const kept: string[] = [];
  let size = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.length > maxChars ? `${lines[i]!.slice(0, maxChars - 1)}…` : lines[i]!;
    if (size + line.length + 1 > maxChars) break;
    kept.unshift(line);
    size += line.length + 1;
  }
  const dropped = lines.length - kept.length;
  return `${dropped ? `[… ${dropped} earlier line(s) not shown]\n` : ''}${kept.join('\n')}`;
}

/** The job's log (Actions: the check run id is the job id); else the check run's own output. */
async function failureText(s: GitHubSession, r: RepoRef, run: CheckRunJson): Promise<{ source: string; text: string }> {
  try {
    const { data } = await s.client.rest.actions.downloadJobLogsForWorkflowRun({ ...r, job_id: run.id });
    const text = typeof data === 'string' ? data : data instanceof ArrayBuffer ? new TextDecoder().decode(data) : String(data ?? '');
    if (text.trim()) return { source: 'job log', text };
  } catch (err) {
    // Not an Actions job, logs expired, or no permission to read them: the check's own output is next best.
    s.deps.logger?.debug({ check: run.id, err: (err as Error).message }, 'job log unavailable; using the check run output');
  }
  const o = run.output ?? {};
  return { source: 'check output', text: [o.title, o.summary, o.text].filter(Boolean).join('\n\n') };
}

/** The developer's CI tool: why a pull request's checks failed, read from the logs. */
export function checkTools(s: GitHubSession): PantheonTool[] {
  return [getFailedChecks(s)];
}

function getFailedChecks(s: GitHubSession): PantheonTool<typeof schema> {
  return {
    name: 'get_failed_checks',
    description:
      "Read why a pull request's checks failed: the failed check runs on its head commit, with their names, conclusions and the end of each failing job's log, within a budget. " +
      'Fix the cause in your workspace, commit and push to the same branch. ' +
      UNTRUSTED_NOTE,
    risk: 'read',
    schema,
    async run({ repo, number, max_tokens }) {
      const r = parseRepo(repo);
      const ref = shortRef(r, number);
      const pr = (await onGitHub('read the pull request', () => s.client.rest.pulls.get({ ...r, pull_number: number }))).data;
      const sha = pr.head.sha;
      const runs = (await onGitHub('list the check runs', () => s.client.paginate(s.client.rest.checks.listForRef, { ...r, ref: sha, per_page: 100 }))) as CheckRunJson[];
      const failed = runs.filter((c) => c.status === 'completed' && FAILED.has(c.conclusion ?? ''));
      const head = `${ref} head ${sha.slice(0, 7)} on ${oneLine(pr.head.ref)}: ${runs.length} check run(s)`;
      if (!failed.length) {
        const pending = runs.filter((c) => c.status !== 'completed').map((c) => oneLine(c.name));
        return `${head}, none failed.${pending.length ? ` Still running: ${pending.join(', ')}.` : ''}`;
      }
      const read = failed.slice(0, MAX_LOGS);
      const perLog = Math.floor(((max_tokens ?? DEFAULT_LOG_TOKENS) * CHARS_PER_TOKEN) / read.length);
      const out = [`${head}, ${failed.length} failed: ${failed.map((c) => `${oneLine(c.name)} (${c.conclusion})`).join(', ')}.`];
      for (const run of read) {
        const { source, text } = await failureText(s, r, run);
        out.push(`Check "${oneLine(run.name)}" ${run.conclusion}${run.html_url ? ` (${run.html_url})` : ''}, ${source}:`);
        out.push(untrusted(`${source} of check ${run.name}`, logTail(text, perLog)));
      }
      if (failed.length > read.length)
        out.push(
          `Not read (over ${MAX_LOGS} failures): ${failed
            .slice(MAX_LOGS)
            .map((c) => oneLine(c.name))
            .join(', ')}.`,
        );
      if (pr.state !== 'open') out.push(`Note: ${ref} is ${pr.merged ? 'merged' : 'closed'}.`);
      return out.join('\n');
    },
  };
}
