import { isIP } from 'node:net';
import { Cron } from 'croner';
import { z } from 'zod';
import { boolean, httpUrl, text } from './coerce.js';
import { timezoneSchema } from './notify.js';
import { bindingChannelSchema } from './platforms.js';

/**
 * `schedules:` in pantheon.yaml (orchestrator/schedules/) and the infra checks they may run.
 */

const nameSchema = () => z.string().regex(/^[A-Za-z0-9][\w.-]*$/, 'expected letters, digits, ".", "_" or "-"');

/** Standard five-field cron (minute hour day-of-month month day-of-week), read by croner. */
const cronSchema = () =>
  text().superRefine((expr, ctx) => {
    const fields = expr.trim().split(/\s+/).length;
    if (fields !== 5) {
      ctx.addIssue({ code: 'custom', message: `expected five fields "minute hour day-of-month month day-of-week" such as "0 9 * * 1-5", got ${fields}` });
      return;
    }
    try {
      new Cron(expr, { paused: true });
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `not a cron expression (${(err as Error).message}); e.g. "0 9 * * 1-5" is 09:00 on weekdays` });
    }
  });

const isHttpUrl = (value: string): boolean => httpUrl().safeParse(value).success;

/** `api.example.com`, `api.example.com:8443`, `10.0.0.5`, `[::1]:443`, `::1`: a host and an optional port, nothing else. */
function isHostPort(value: string): boolean {
  if (isIP(value)) return true;
  const m = /^(.+?)(?::(\d{1,5}))?$/.exec(value);
  if (!m || Number(m[2] ?? 1) > 65535) return false;
  const host = m[1]!;
  if (/^\[.*\]$/.test(host)) return isIP(host.slice(1, -1)) === 6;
  // The URL parser vets a host name as a browser would; it must come back unchanged, bar case.
  return URL.canParse(`https://${host}`) && new URL(`https://${host}`).host === host.toLowerCase();
}

/** What is wrong with a check's `url`: an http check requests it; a tls check also takes host[:port]. */
function checkUrlProblem(kind: string, url: string): string | undefined {
  if (isHttpUrl(url)) return undefined;
  if (kind === 'http') return 'expected an http(s) URL such as https://api.example.com/healthz';
  if (isHostPort(url)) return undefined;
  return 'expected an http(s) URL or host[:port], such as https://api.example.com or api.example.com:8443';
}

/** An infra check (tools/infra/schedule.ts): disk use or a command on a host, an HTTP endpoint, a TLS certificate. */
export const infraCheckSchema = z
  .strictObject({
    kind: z.enum(['disk', 'http', 'tls', 'command']),
    host: text().optional(),
    url: text().optional(),
    command: text().optional(),
    threshold: z.coerce.number().optional(),
  })
  .superRefine((check, ctx) => {
    const problem = check.url === undefined ? undefined : checkUrlProblem(check.kind, check.url);
    if (problem) ctx.addIssue({ code: 'custom', path: ['url'], message: problem });
  });
export type InfraCheckSpec = z.output<typeof infraCheckSchema>;

/** `300`, `"30s"`, `"5m"`, `"1h"`: seconds, or a number with a unit. */
export const intervalSchema = () => z.union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?\s*(s|m|h)?$/, 'expected seconds or "30s", "5m", "1h"')]);

/** `300`, `"30s"`, `"5m"`, `"1h"` → milliseconds. */
export function everyMs(every: number | string): number {
  if (typeof every === 'number') return every * 1000;
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h)?$/.exec(every.trim());
  if (!m) throw new Error(`not an interval: ${every}`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 's' | 'm' | 'h'];
}

/**
 * One entry of `schedules:`: when (`cron` in `timezone`, or `every` for a plain interval), what
 * (a persona's turn with `prompt`, an infra `check`, or a `runbook`), and the thread it speaks in.
 */
const scheduleSchema = z
  .strictObject({
    name: nameSchema(),
    cron: cronSchema().optional(),
    /** An interval instead of a cron expression (what `infra.schedule` had). */
    every: intervalSchema().optional(),
    timezone: timezoneSchema().default('UTC'),
    /** The thread the run speaks in: its result, the persona's answer, a failure. */
    thread: z.lazy(bindingChannelSchema),
    persona: text().optional(),
    prompt: text().optional(),
    check: infraCheckSchema.optional(),
    /** A check: say so when it passes again after failing. */
    resolved: boolean().default(true),
    runbook: nameSchema().optional(),
    /** An occurrence missed while no replica ran (downtime): `once` runs the latest one at start, `skip` records it as skipped. */
    missed: z.enum(['once', 'skip']).default('once'),
    enabled: boolean().default(true),
  })
  .superRefine((s, ctx) => {
    if ((s.cron === undefined) === (s.every === undefined))
      ctx.addIssue({ code: 'custom', path: ['cron'], message: 'give either cron (e.g. "0 9 * * 1-5") or every (e.g. "5m"), not both or neither' });
    const actions = [s.persona !== undefined || s.prompt !== undefined, s.check !== undefined, s.runbook !== undefined].filter(Boolean).length;
    if (actions !== 1) ctx.addIssue({ code: 'custom', path: [], message: 'a schedule does one thing: a persona turn (persona and prompt), a check, or a runbook' });
    if (s.persona !== undefined && s.prompt === undefined) ctx.addIssue({ code: 'custom', path: ['prompt'], message: `is required with persona: what ${s.persona} is asked to do` });
    if (s.prompt !== undefined && s.persona === undefined) ctx.addIssue({ code: 'custom', path: ['persona'], message: 'is required with prompt: who runs the turn, e.g. athena' });
  });
export type ScheduleConfig = z.output<typeof scheduleSchema>;
export type ScheduleKind = 'turn' | 'check' | 'runbook';

export function scheduleKind(s: ScheduleConfig): ScheduleKind {
  return s.check ? 'check' : s.runbook ? 'runbook' : 'turn';
}

export const schedulesSchema = z.array(scheduleSchema).superRefine((list, ctx) => {
  const seen = new Map<string, number>();
  list.forEach((s, i) => {
    const earlier = seen.get(s.name);
    if (earlier !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate schedule name "${s.name}" (also schedules[${earlier}])` });
    else seen.set(s.name, i);
  });
});
