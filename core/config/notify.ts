import { z } from 'zod';
import { text } from './coerce.js';

/** Time zones, times of day and humans' notification preferences (`humans[].notify`). */

/** An IANA time zone such as `Europe/Berlin` or `UTC`. */
export const timezoneSchema = () =>
  text().refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-GB', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'expected an IANA time zone such as Europe/Berlin, America/New_York or UTC');

/** `"22:00"`: a time of day, 24-hour. */
const timeOfDaySchema = () => z.string().regex(/^([01]?\d|2[0-3]):[0-5]\d$/, 'expected a time of day "HH:MM" such as 22:00');

const NOTICE_KINDS = ['approvals', 'failures', 'finished', 'mentions'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

/**
 * `humans[].notify`: how a person wants to be reached by the notifier (orchestrator/notify/).
 * `via`: the platforms to send a direct message on, first that reaches them wins; `quietHours`:
 * held until they end, then delivered as one digest; `kinds`: which notices they want.
 */
export const notifyPreferencesSchema = z.strictObject({
  via: z.array(text()).min(1).optional(),
  quietHours: z
    .strictObject({
      from: timeOfDaySchema(),
      to: timeOfDaySchema(),
      timezone: timezoneSchema().default('UTC'),
    })
    .optional(),
  kinds: z.array(z.enum(NOTICE_KINDS)).default([...NOTICE_KINDS]),
});
export type NotifyPreferences = z.output<typeof notifyPreferencesSchema>;
