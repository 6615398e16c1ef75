import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { NotifierPort } from '../../core/chat/notices.js';
import type { OutboxPort } from '../../core/chat/outbox.js';
import type { IngressSink } from '../../core/chat/types.js';
import type { Clock } from '../../core/clock/index.js';
import { scheduleKind, type ScheduleConfig, type ScheduleKind } from '../../core/config/schedules.js';
import { scrubSecrets, type Logger } from '../../core/log.js';
import type { ScheduledOutcome, ScheduledWork } from '../../core/modules/types.js';
import type { RunTrigger, ScheduleRun, ScheduleStore } from './store.js';
import { ScheduleTimes } from './times.js';
import { turnMessageId, TurnWatch } from './turns.js';

/** An occurrence found this much after its time counts as missed (the process was down), not just late. */
const LATE_GRACE_MS = 60_000;

export interface SchedulerDeps {
  schedules: ScheduleConfig[];
  store: ScheduleStore;
  ingress: IngressSink;
  outbox: OutboxPort;
  notifier: NotifierPort;
  /** Checks and runbooks, from the modules that run them (infra). */
  work: ScheduledWork;
  clock: Clock;
  logger: Logger;
  /** How often the owner looks for due occurrences (default 1 s). */
  tickMs?: number;
  /**
   * This replica's owner id in the leases (core/leases): its runs are recorded under it, so the
   * next owner can tell a run whose replica is gone (no live presence row) from one still going.
   */
  replica?: string;
}

/** One schedule as `pantheon schedules` and `GET /api/schedules` show it. */
export interface ScheduleView {
  name: string;
  kind: ScheduleKind;
  when: string;
  timezone: string;
  thread: string;
  persona?: string;
  enabled: boolean;
  missed: 'once' | 'skip';
  nextRun: string | null;
  failing: boolean;
  lastRun: (Omit<ScheduleRun, 'occurrence' | 'startedAt' | 'finishedAt'> & { occurrence: string; startedAt: string; finishedAt: string | null }) | null;
}

/** What running a schedule's work answered: its outcome, or (a persona turn) the message that asked for it, whose run ends later. */
type Performed = ScheduledOutcome & { asked?: boolean };

/**
 * Runs `schedules:`. One replica owns the ticking (the `schedules` lease); each occurrence is
 * also claimed by a row (`schedule_runs`), so it runs once even while ownership changes hands.
 * An occurrence found late, after downtime, runs once or is recorded as skipped (`missed:`); a
 * failing run is posted in its thread and told to the people who want failures, once, until it
 * runs well again. A persona turn is a message to the persona in the schedule's thread, through
 * the ingress like any other: its run stays `running` until the turn ends (turns.ts), then it is
 * recorded and reported as the turn went. Checks and runbooks are the infra module's.
 */
export class Scheduler {
  /** Who claims this scheduler's runs: the replica's lease owner, then this scheduler's own id (`|` between). */
  readonly owner: string;
  private readonly byName = new Map<string, { config: ScheduleConfig; times: ScheduleTimes }>();
  private checked = new Map<string, Date>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private readonly turns: TurnWatch;

  constructor(private readonly deps: SchedulerDeps) {
    this.owner = `${deps.replica ?? `${hostname()}/${process.pid}`}|${randomBytes(3).toString('hex')}`;
    for (const s of deps.schedules) this.byName.set(s.name, { config: s, times: new ScheduleTimes(s) });
    this.turns = new TurnWatch({
      store: deps.store,
      clock: deps.clock,
      logger: deps.logger,
      tickMs: deps.tickMs ?? 1000,
      ended: (turn, outcome) => this.settle(turn.config, turn.occurrence, outcome),
    });
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /**
   * Starts looking for due occurrences (this replica took the lease), and waits for the turns
   * still under way (asked by the replica that had the lease before, or before a restart).
   */
  async start(): Promise<void> {
    // A check or runbook left running by a replica that is gone (killed mid-run) will never end:
    // it is recorded and reported as failed, once; the next occurrence runs as usual.
    const work = this.deps.schedules.filter((s) => scheduleKind(s) !== 'turn');
    if (work.length) {
      const abandoned = await this.deps.store.abandoned(
        work.map((s) => s.name),
        this.owner,
      );
      // Their state rows (whether each is failing) exist once a replica started; made here if not.
      if (abandoned.length) await this.deps.store.checkedThrough([...new Set(abandoned.map((r) => r.schedule))], this.deps.clock.now());
      for (const run of abandoned) {
        const replica = run.owner.split('|')[0];
        await this.settle(this.byName.get(run.schedule)!.config, run.occurrence, {
          ok: false,
          detail: `interrupted: the replica running it (${replica}) stopped before it finished; the next occurrence runs as usual`,
        });
      }
    }
    const turns = this.deps.schedules.filter((s) => scheduleKind(s) === 'turn');
    if (turns.length) {
      for (const run of await this.deps.store.running(turns.map((s) => s.name))) {
        this.turns.add({ config: this.byName.get(run.schedule)!.config, occurrence: run.occurrence, startedAt: run.startedAt });
      }
      await this.turns.look(true);
    }
    const enabled = this.deps.schedules.filter((s) => s.enabled);
    if (!enabled.length) return;
    this.checked = await this.deps.store.checkedThrough(
      enabled.map((s) => s.name),
      this.deps.clock.now(),
    );
    this.tick();
    this.timer = setInterval(() => this.tick(), this.deps.tickMs ?? 1000);
    this.timer.unref();
  }

  /** Stops ticking and waits for runs under way (turns asked are left to whoever watches them next). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all(this.inFlight.values());
    await this.turns.stop();
  }

  private tick(): void {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const now = this.deps.clock.now();
      for (const { config, times } of this.byName.values()) {
        if (!config.enabled || this.inFlight.has(config.name)) continue;
        const after = this.checked.get(config.name);
        if (!after) continue;
        const { count, latest } = times.within(after, now);
        if (!latest) continue;
        this.checked.set(config.name, now);
        // Late by more than the grace: it fell due while no replica ran. (Earlier occurrences that
        // overlapped a run still under way are not run again: the latest stands for them.)
        const missed = now.getTime() - latest.getTime() > LATE_GRACE_MS;
        const work = (missed ? this.handleMissed(config, latest, count) : this.run(config, latest, 'cron'))
          .then(() => this.deps.store.advance(config.name, now))
          .catch((err) => this.deps.logger.warn({ schedule: config.name, err: (err as Error).message }, 'a scheduled run could not be recorded'))
          .finally(() => this.inFlight.delete(config.name));
        this.inFlight.set(config.name, work);
      }
    } finally {
      this.ticking = false;
    }
  }

  /** Downtime: the latest missed occurrence runs once, or is recorded as skipped (`missed: skip`). */
  private async handleMissed(config: ScheduleConfig, occurrence: Date, count: number): Promise<void> {
    const what = `${count === 1 ? 'an occurrence was' : `${count} occurrences were`} missed while no replica ran (latest ${occurrence.toISOString()})`;
    if (config.missed === 'skip') {
      const claimed = await this.deps.store.claim({
        schedule: config.name,
        occurrence,
        trigger: 'missed',
        owner: this.owner,
        startedAt: this.deps.clock.now(),
        status: 'skipped',
        detail: `${what}: skipped (missed: skip)`,
      });
      if (claimed) this.deps.logger.info({ schedule: config.name, occurrence }, 'missed occurrence skipped');
      return;
    }
    this.deps.logger.info({ schedule: config.name, occurrence, count }, 'missed occurrence: running it once now');
    await this.run(config, occurrence, 'missed');
  }

  /**
   * Runs `name` now (`pantheon schedules run`, `POST /api/schedules/:name/run`), in this process,
   * whoever owns the ticking. Undefined for an unknown schedule. A persona turn answers once its
   * message is queued (status `running`); this process then waits for the turn's end.
   */
  async runNow(name: string): Promise<ScheduleRun | undefined> {
    const entry = this.byName.get(name);
    if (!entry) return undefined;
    const at = this.deps.clock.now();
    await this.run(entry.config, at, 'manual');
    return (await this.deps.store.runs(name, 1))[0];
  }

  /** Claims the occurrence, does the work, records and reports the outcome (a turn's once it ends). */
  private async run(config: ScheduleConfig, occurrence: Date, trigger: RunTrigger): Promise<void> {
    const { store, clock, logger } = this.deps;
    const startedAt = clock.now();
    if (!(await store.claim({ schedule: config.name, occurrence, trigger, owner: this.owner, startedAt }))) return;
    let outcome: Performed;
    try {
      outcome = await this.perform(config, occurrence);
    } catch (err) {
      outcome = { ok: false, detail: scrubSecrets((err as Error).message) };
    }
    if (outcome.asked) {
      await store.note(config.name, occurrence, outcome.detail);
      logger.info({ schedule: config.name, occurrence, trigger }, 'scheduled turn asked; waiting for its end');
      this.turns.add({ config, occurrence, startedAt });
      return;
    }
    await this.settle(config, occurrence, outcome, trigger);
  }

  /** Records the outcome of a run under way and reports it; nothing when it was recorded already (another replica saw the turn end first). */
  private async settle(config: ScheduleConfig, occurrence: Date, outcome: ScheduledOutcome, trigger?: RunTrigger): Promise<void> {
    const { store, clock, logger } = this.deps;
    if (!(await store.finish(config.name, occurrence, { status: outcome.ok ? 'ok' : 'failed', detail: outcome.detail, at: clock.now() }))) return;
    logger.info({ schedule: config.name, occurrence, trigger, ok: outcome.ok, detail: outcome.detail }, 'scheduled run finished');
    await this.report(config, occurrence, outcome);
  }

  private async perform(config: ScheduleConfig, occurrence: Date): Promise<Performed> {
    const kind = scheduleKind(config);
    if (kind === 'turn') return this.turn(config, occurrence);
    const work = this.deps.work[kind];
    if (!work) return { ok: false, detail: `nothing runs ${kind} schedules here: configure infra (hosts or runbooks) for them` };
    return work.call(this.deps.work, config, occurrence);
  }

  /** A persona's turn: the prompt as a message to the persona in the thread, through the ingress. */
  private async turn(config: ScheduleConfig, occurrence: Date): Promise<Performed> {
    const platform = config.thread.split(':')[0]!;
    const { accepted } = await this.deps.ingress({
      id: turnMessageId(config.name, occurrence),
      platform,
      threadId: config.thread,
      author: { id: `schedule:${config.name}`, name: `schedule ${config.name}` },
      text: config.prompt!,
      receivedAt: this.deps.clock.now().toISOString(),
      targets: [config.persona!],
    });
    const detail = accepted ? `asked ${config.persona} in ${config.thread}` : `already asked ${config.persona} in ${config.thread} for this occurrence`;
    return { ok: true, asked: true, detail: `${detail}; waiting for the answer` };
  }

  /**
   * A failure is posted and told once until the schedule runs well again, which is said too; the
   * work's own report (a runbook's steps) goes with it, and is posted after every run that went
   * well. One message per run, keyed by the occurrence: one occurrence never posts twice.
   */
  private async report(config: ScheduleConfig, occurrence: Date, outcome: ScheduledOutcome): Promise<void> {
    const { store, outbox, notifier } = this.deps;
    const post = (what: string, text: string) =>
      outbox.send({ idempotencyKey: `schedule:${config.name}:${what}:${occurrence.toISOString()}`, platform: config.thread.split(':')[0]!, threadId: config.thread, role: 'system', text });
    if (!outcome.ok) {
      if (!(await store.setFailing(config.name, true))) return;
      const once = 'reported once, until it runs well again';
      const text = `⚠️ Schedule ${config.name} failed: ${outcome.detail} (${once})`;
      if (!outcome.reported) await post('failed', outcome.report ? `${outcome.report}\n⚠️ Schedule ${config.name} failed (${once})` : text);
      await notifier.notify({ kind: 'failures', key: `schedule:${config.name}:failed:${occurrence.toISOString()}`, text, to: 'everyone', thread: config.thread });
      return;
    }
    const recovered = await store.setFailing(config.name, false);
    if (outcome.reported) return;
    if (outcome.report) await post(recovered ? 'recovered' : 'ran', recovered ? `${outcome.report}\n✅ Schedule ${config.name} runs well again` : outcome.report);
    else if (recovered) await post('recovered', `✅ Schedule ${config.name} runs well again: ${outcome.detail}`);
  }

  /** Every schedule with its next run and its last result. */
  list(): Promise<ScheduleView[]> {
    return describeSchedules(this.deps.schedules, this.deps.store, this.deps.clock.now());
  }
}

/** Schedules with their next run after `now` and their last result (also read without a server, by `pantheon schedules`). */
export async function describeSchedules(schedules: ScheduleConfig[], store: Pick<ScheduleStore, 'latest'>, now: Date): Promise<ScheduleView[]> {
  const latest = await store.latest(schedules.map((s) => s.name));
  return schedules.map((config) => {
    const last = latest.get(config.name);
    const run = last?.run;
    return {
      name: config.name,
      kind: scheduleKind(config),
      when: config.cron ?? `every ${config.every}`,
      timezone: config.timezone,
      thread: config.thread,
      ...(config.persona ? { persona: config.persona } : {}),
      enabled: config.enabled,
      missed: config.missed,
      nextRun: config.enabled ? (new ScheduleTimes(config).next(now)?.toISOString() ?? null) : null,
      failing: last?.failing ?? false,
      lastRun: run ? { ...run, occurrence: run.occurrence.toISOString(), startedAt: run.startedAt.toISOString(), finishedAt: run.finishedAt?.toISOString() ?? null } : null,
    };
  });
}
