import { Cron } from 'croner';
import type { NotifyPreferences } from '../../core/config/notify.js';

type QuietHours = NonNullable<NotifyPreferences['quietHours']>;

/** Minutes since local midnight in `timezone` at `at`. */
function localMinutes(at: Date, timezone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return part('hour') * 60 + part('minute');
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

/** Whether `at` falls in the quiet hours (`from` inclusive, `to` exclusive; `22:00`–`07:00` spans midnight). */
export function isQuiet(quiet: QuietHours | undefined, at: Date): boolean {
  if (!quiet) return false;
  const now = localMinutes(at, quiet.timezone);
  const from = minutesOf(quiet.from);
  const to = minutesOf(quiet.to);
  if (from === to) return false;
  return from < to ? now >= from && now < to : now >= from || now < to;
}

/** When the quiet hours around `at` end (the next `to` in their time zone). */
export function quietEnds(quiet: QuietHours, at: Date): Date {
  const to = minutesOf(quiet.to);
  const next = new Cron(`${to % 60} ${Math.floor(to / 60)} * * *`, { timezone: quiet.timezone, paused: true }).nextRun(at);
  return next ?? new Date(at.getTime() + 24 * 3_600_000);
}
