import { ConfigError } from '../config/errors.js';

/**
 * Where Pantheon reads the time for schedules, quiet hours, approval escalation and expiry.
 * Production uses the system clock. Tests inject a `Clock` of their own; end-to-end tests set
 * `PANTHEON_TEST_CLOCK` on the real process (see `clockFromEnv`), which is refused when
 * `NODE_ENV=production`.
 */
export interface Clock {
  now(): Date;
  /** True when the time is not the system's (a test clock): stores then pass it to the database instead of `now()`. */
  readonly controlled: boolean;
}

export const systemClock: Clock = { now: () => new Date(), controlled: false };

/** A clock that runs at real speed from `start`, as if it had been `start` at real time `anchorMs`. */
function offsetClock(start: Date, anchorMs = Date.now()): Clock {
  const offset = start.getTime() - anchorMs;
  return { now: () => new Date(Date.now() + offset), controlled: true };
}

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  readonly controlled = true;
  private ms: number;
  constructor(start: Date | string) {
    this.ms = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.ms);
  }
  set(at: Date | string): void {
    this.ms = new Date(at).getTime();
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

const TEST_CLOCK_VARIABLE = 'PANTHEON_TEST_CLOCK';

/**
 * `PANTHEON_TEST_CLOCK=2026-03-02T07:59:50Z` starts the process's clock at that instant, running
 * at real speed; `...Z@1767225600000` says at which real epoch millisecond it was that instant, so
 * several processes (replicas) share one clock. Unset: the system clock. Test only: refused with
 * `NODE_ENV=production`.
 */
export function clockFromEnv(env: NodeJS.ProcessEnv): Clock {
  const raw = env[TEST_CLOCK_VARIABLE]?.trim();
  if (!raw) return systemClock;
  if (env.NODE_ENV === 'production') throw new ConfigError('environment', TEST_CLOCK_VARIABLE, 'is for tests and is refused with NODE_ENV=production; unset it');
  const [at, anchor] = raw.split('@');
  const start = new Date(at!);
  const anchorMs = anchor === undefined ? Date.now() : Number(anchor);
  if (Number.isNaN(start.getTime()) || !Number.isFinite(anchorMs)) {
    throw new ConfigError('environment', TEST_CLOCK_VARIABLE, `expected an ISO time such as 2026-03-02T07:59:50Z, optionally followed by @<epoch ms>, got "${raw}"`);
  }
  return offsetClock(start, anchorMs);
}
