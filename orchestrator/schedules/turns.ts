import type { Clock } from '../../core/clock/index.js';
import type { ScheduleConfig } from '../../core/config/schedules.js';
import type { Logger } from '../../core/log.js';
import type { ScheduledOutcome } from '../../core/modules/types.js';
import type { ScheduleStore } from './store.js';

/** The message that asks a schedule's persona for its turn: one per occurrence, so the ingress takes it once. */
export const turnMessageId = (schedule: string, occurrence: Date) => `schedule:${schedule}:${occurrence.toISOString()}`;

/** A message to the persona still looked for after this long (by the clock) was never stored: the run stopped before it. */
const NEVER_ASKED_MS = 60_000;
/** The longest wait between two looks at a turn (a turn paused on an approval may wait for hours). */
const MAX_LOOK_MS = 30_000;

/** A persona turn asked for and not yet ended. */
export interface AwaitedTurn {
  config: ScheduleConfig;
  occurrence: Date;
  /** When the run started, by the clock. */
  startedAt: Date;
}

interface Watched extends AwaitedTurn {
  inbound: string;
  lookAt: number;
  paused: boolean;
}

export interface TurnWatchDeps {
  store: Pick<ScheduleStore, 'turnOutcomes' | 'note'>;
  clock: Clock;
  logger: Logger;
  /** How often the turns are looked at, at the least (each waits longer the longer it has been waiting). */
  tickMs: number;
  /** A turn ended: record and report its outcome. */
  ended(turn: AwaitedTurn, outcome: ScheduledOutcome): Promise<void>;
}

/**
 * Schedules' persona turns waiting for their end. A turn is a message to the persona through the
 * ingress; its run ends later, on whichever process drains the thread, which marks the message
 * done or failed (with what the chat was told) in `inbound_messages`, or paused on an approval
 * until the run resumes. The watch looks at those marks while it has turns to wait for (and not at
 * all otherwise), each less often the longer it waits, and hands each ended turn to the scheduler.
 * State is in Postgres: a replica that takes the schedules over watches the turns its predecessor
 * left (`Scheduler.start`), and recording the end is one replica's (`ScheduleStore.finish`).
 */
export class TurnWatch {
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;
  private looking: Promise<void> | undefined;

  constructor(private readonly deps: TurnWatchDeps) {}

  /** Waits for the turn of `config` at `occurrence` to end. */
  add(turn: AwaitedTurn): void {
    const inbound = turnMessageId(turn.config.name, turn.occurrence);
    if (this.watched.has(inbound)) return;
    this.watched.set(inbound, { ...turn, inbound, lookAt: this.deps.clock.now().getTime() + this.deps.tickMs, paused: false });
    if (!this.timer) {
      this.timer = setInterval(() => void this.look(), this.deps.tickMs);
      this.timer.unref();
    }
  }

  /** Looks at every turn waited for now (`all`), or at those due for a look. */
  look(all = false): Promise<void> {
    this.looking ??= this.lookOnce(all)
      .catch((err: unknown) => this.deps.logger.warn({ err: (err as Error).message }, 'looking at scheduled turns failed'))
      .finally(() => {
        this.looking = undefined;
      });
    return this.looking;
  }

  /** Stops looking (the turns are left to whoever watches them next) and waits for a look under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.looking;
    this.watched.clear();
  }

  private async lookOnce(all: boolean): Promise<void> {
    const { store, clock, logger } = this.deps;
    const now = clock.now().getTime();
    const due = [...this.watched.values()].filter((t) => all || t.lookAt <= now);
    if (!due.length) return;
    const marks = await store.turnOutcomes(due.map((t) => t.inbound));
    for (const turn of due) {
      const mark = marks.get(turn.inbound);
      const { persona, thread } = turn.config;
      let outcome: ScheduledOutcome | undefined;
      if (mark?.status === 'done') outcome = { ok: true, detail: `${persona} answered in ${thread}` };
      else if (mark?.status === 'failed') outcome = { ok: false, detail: mark.error ?? `${persona}'s turn in ${thread} failed` };
      else if (!mark && now - turn.startedAt.getTime() > NEVER_ASKED_MS) outcome = { ok: false, detail: `the message to ${persona} was never stored (the run stopped before it)` };
      if (outcome) {
        await this.deps.ended(turn, outcome);
        this.watched.delete(turn.inbound);
        continue;
      }
      if (mark?.status === 'paused' && !turn.paused) {
        turn.paused = true;
        await store.note(turn.config.name, turn.occurrence, `asked ${persona} in ${thread}; waiting for an approval`);
        logger.info({ schedule: turn.config.name, occurrence: turn.occurrence }, 'scheduled turn waits for an approval');
      }
      turn.lookAt = now + Math.min(MAX_LOOK_MS, Math.max(this.deps.tickMs, (now - turn.startedAt.getTime()) / 4));
    }
    if (!this.watched.size) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
