import { clockFromEnv } from '../core/clock/index.js';
import { loadConfig } from '../core/config/index.js';
import { describeSchedules, ScheduleStore, type ScheduleRun, type ScheduleView } from '../orchestrator/schedules/index.js';
import { findServer, formatTable, getJson, HttpAnswerError, truncate, withDatabase, type ReadSourceOptions } from './audit.js';
import { CommandError } from './command-error.js';
import { authorization, unauthorizedMessage } from './server-token.js';

export interface SchedulesCommandOptions extends ReadSourceOptions {
  json?: boolean;
}

/** `2026-03-03 09:00 Europe/Berlin`: a run's time where its schedule reads its cron. */
function local(at: string | null, timezone: string): string {
  if (!at) return '';
  const text = new Intl.DateTimeFormat('sv-SE', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(at));
  return `${text} ${timezone}`;
}

function lastResult(v: ScheduleView): string {
  const run = v.lastRun;
  if (!run) return 'never run';
  const how = run.trigger === 'cron' ? '' : ` (${run.trigger})`;
  return `${run.status}${how} at ${local(run.startedAt, v.timezone)}${run.detail ? `: ${truncate(run.detail, 80)}` : ''}`;
}

/**
 * `pantheon schedules`: each schedule with its next run and last result; `pantheon schedules run
 * <name>` runs one now. Through the running server when there is one (running needs it: a turn
 * is the team's work); the list is read from the database otherwise.
 */
export async function schedulesCommand(action: string | undefined, name: string | undefined, opts: SchedulesCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  if (action !== undefined && action !== 'run') throw new CommandError(`unknown action "${action}": use \`pantheon schedules\` to list, or \`pantheon schedules run <name>\``);
  if (action === 'run' && !name) throw new CommandError('which schedule? `pantheon schedules run <name>` (`pantheon schedules` lists them)');
  const server = await findServer(opts);
  if (action === 'run') {
    if (!server) throw new CommandError('running a schedule needs the running server (`pantheon start`), and none answers; pass --url, or the --data-dir / --port it uses');
    const run = await runOnServer(server, name!);
    if (opts.json) out.write(`${JSON.stringify(run)}\n`);
    else out.write(`${name}: ${run.status}${run.detail ? `: ${run.detail}` : ''}\n`);
    if (run.status === 'failed') process.exitCode = 1;
    return;
  }
  let views: ScheduleView[];
  if (server) views = ((await getJson(server, '/api/schedules')) as { schedules: ScheduleView[] }).schedules;
  else {
    const { config } = await loadConfig({ configPath: opts.config, dataDir: opts.dataDir });
    views = await withDatabase(opts, (pool) => describeSchedules(config.schedules, new ScheduleStore(pool), clockFromEnv(process.env).now()));
  }
  if (opts.json) {
    for (const v of views) out.write(`${JSON.stringify(v)}\n`);
    return;
  }
  if (!views.length) {
    out.write('No schedules: add them under schedules: in pantheon.yaml (docs/schedules.md).\n');
    return;
  }
  out.write(
    formatTable(
      ['NAME', 'KIND', 'WHEN', 'THREAD', 'NEXT RUN', 'LAST RESULT'],
      views.map((v) => [
        v.name,
        v.persona ? `${v.kind} (${v.persona})` : v.kind,
        v.when,
        v.thread,
        v.enabled ? local(v.nextRun, v.timezone) : 'disabled',
        `${v.failing ? 'FAILING: ' : ''}${lastResult(v)}`,
      ]),
    ),
  );
}

async function runOnServer(server: string, name: string): Promise<ScheduleRun & { occurrence: string }> {
  let res: Response;
  try {
    res = await fetch(`${server}/api/schedules/${encodeURIComponent(name)}/run`, { method: 'POST', headers: authorization(), signal: AbortSignal.timeout(600_000) });
  } catch (err) {
    throw new CommandError(`cannot reach Pantheon at ${server} (${(err as Error).message}); is \`pantheon start\` running?`);
  }
  const body = (await res.json().catch(() => undefined)) as { run?: ScheduleRun & { occurrence: string }; error?: { message?: string } } | undefined;
  if (res.status === 401) throw new CommandError(unauthorizedMessage());
  if (res.status === 404) throw new CommandError(body?.error?.message ?? `no schedule "${name}"`);
  if (!res.ok || !body?.run) throw new HttpAnswerError(res.status, `POST ${server}/api/schedules/${name}/run answered ${res.status}${body?.error?.message ? `: ${body.error.message}` : ''}`);
  return body.run;
}
