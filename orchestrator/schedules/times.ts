import { Cron } from 'croner';
import { everyMs, type ScheduleConfig } from '../../core/config/schedules.js';

/** Occurrences looked at in one go at most (a minutely cron after months down); the latest found is used. */
const MAX_STEPS = 200_000;

/**
 * When a schedule is due: its cron expression read in its time zone (croner), or its interval
 * (`every`, aligned to the epoch, so every replica computes the same instants).
 */
export class ScheduleTimes {
  private readonly cron: Cron | undefined;
  private readonly ms: number | undefined;

  constructor(schedule: Pick<ScheduleConfig, 'cron' | 'every' | 'timezone'>) {
    if (schedule.cron) this.cron = new Cron(schedule.cron, { timezone: schedule.timezone, paused: true });
    else this.ms = everyMs(schedule.every!);
  }

  /** The first occurrence strictly after `after`. */
  next(after: Date): Date | undefined {
    if (this.ms) return new Date((Math.floor(after.getTime() / this.ms) + 1) * this.ms);
    return this.cron!.nextRun(after) ?? undefined;
  }

  /** The occurrences in (`after`, `upTo`]: how many, and the latest. */
  within(after: Date, upTo: Date): { count: number; latest?: Date } {
    if (this.ms) {
      const count = Math.max(0, Math.floor(upTo.getTime() / this.ms) - Math.floor(after.getTime() / this.ms));
      return count ? { count, latest: new Date(Math.floor(upTo.getTime() / this.ms) * this.ms) } : { count: 0 };
    }
    let count = 0;
    let latest: Date | undefined;
    for (let at = this.next(after); at && at <= upTo && count < MAX_STEPS; at = this.next(at)) {
      count++;
      latest = at;
    }
    return latest ? { count, latest } : { count: 0 };
  }
}
