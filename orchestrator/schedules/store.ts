import type pg from 'pg';

export type RunTrigger = 'cron' | 'missed' | 'manual';
export type RunStatus = 'running' | 'ok' | 'failed' | 'skipped';

/** One run of a schedule (or an occurrence skipped), as `pantheon schedules` shows it. */
export interface ScheduleRun {
  schedule: string;
  occurrence: Date;
  trigger: RunTrigger;
  status: RunStatus;
  detail: string | null;
  owner: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

interface RunRow {
  schedule: string;
  occurrence: Date;
  trigger: RunTrigger;
  status: RunStatus;
  detail: string | null;
  owner: string | null;
  started_at: Date;
  finished_at: Date | null;
}

const toRun = (r: RunRow): ScheduleRun => ({
  schedule: r.schedule,
  occurrence: r.occurrence,
  trigger: r.trigger,
  status: r.status,
  detail: r.detail,
  owner: r.owner,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

/**
 * `schedule_state` and `schedule_runs` (migration 0029). An occurrence is claimed by inserting its
 * row: the primary key (schedule, occurrence) lets one replica win; a run is ended by the one
 * update that finds it still `running`. Times are the process's clock's (passed in), so a test
 * clock drives them as it drives the schedule. A persona turn's end is read from its message's
 * row in `inbound_messages` (`turnOutcomes`).
 */
export class ScheduleStore {
  constructor(private readonly pool: pg.Pool) {}

  /** How far each schedule's occurrences were looked at; a schedule seen for the first time starts at `now`. */
  async checkedThrough(names: string[], now: Date): Promise<Map<string, Date>> {
    if (names.length) {
      await this.pool.query(`INSERT INTO schedule_state (name, checked_through) SELECT unnest($1::text[]), $2 ON CONFLICT (name) DO NOTHING`, [names, now]);
    }
    const { rows } = await this.pool.query<{ name: string; checked_through: Date }>(`SELECT name, checked_through FROM schedule_state WHERE name = ANY($1::text[])`, [names]);
    return new Map(rows.map((r) => [r.name, r.checked_through]));
  }

  async advance(name: string, to: Date): Promise<void> {
    await this.pool.query(`UPDATE schedule_state SET checked_through = GREATEST(checked_through, $2), updated_at = now() WHERE name = $1`, [name, to]);
  }

  /** Claims an occurrence; false when another replica (or an earlier attempt) has it. */
  async claim(run: { schedule: string; occurrence: Date; trigger: RunTrigger; owner: string; startedAt: Date; status?: RunStatus; detail?: string }): Promise<boolean> {
    const skipped = run.status === 'skipped';
    const { rows } = await this.pool.query(
      `INSERT INTO schedule_runs (schedule, occurrence, trigger, status, detail, owner, started_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (schedule, occurrence) DO NOTHING RETURNING schedule`,
      [run.schedule, run.occurrence, run.trigger, run.status ?? 'running', run.detail ?? null, run.owner, run.startedAt, skipped ? run.startedAt : null],
    );
    return rows.length === 1;
  }

  /** Ends a run under way; false when it had ended already (another replica settled the same turn first). */
  async finish(schedule: string, occurrence: Date, result: { status: 'ok' | 'failed'; detail: string; at: Date }): Promise<boolean> {
    const { rowCount } = await this.pool.query(`UPDATE schedule_runs SET status = $3, detail = $4, finished_at = $5 WHERE schedule = $1 AND occurrence = $2 AND status = 'running'`, [
      schedule,
      occurrence,
      result.status,
      result.detail,
      result.at,
    ]);
    return rowCount === 1;
  }

  /** What a run still under way has done so far (a persona turn: asked, waiting for the answer). */
  async note(schedule: string, occurrence: Date, detail: string): Promise<void> {
    await this.pool.query(`UPDATE schedule_runs SET detail = $3 WHERE schedule = $1 AND occurrence = $2 AND status = 'running'`, [schedule, occurrence, detail]);
  }

  /**
   * Runs of these schedules still marked running whose replica is gone: claimed by another
   * scheduler than `me`, and the replica named before the `|` of their owner has no live presence
   * row in the leases (core/leases; one process on the embedded database keeps none, and is the
   * only one).
   */
  async abandoned(names: string[], me: string): Promise<{ schedule: string; occurrence: Date; owner: string }[]> {
    const { rows } = await this.pool.query<{ schedule: string; occurrence: Date; owner: string }>(
      `SELECT r.schedule, r.occurrence, r.owner FROM schedule_runs r
        WHERE r.status = 'running' AND r.schedule = ANY($1::text[]) AND r.owner <> $2
          AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.name = 'replica:' || split_part(r.owner, '|', 1) AND l.expires_at > now())
        ORDER BY r.started_at`,
      [names, me],
    );
    return rows;
  }

  /** The runs of these schedules still under way, oldest first. */
  async running(names: string[]): Promise<{ schedule: string; occurrence: Date; startedAt: Date }[]> {
    const { rows } = await this.pool.query<{ schedule: string; occurrence: Date; started_at: Date }>(
      `SELECT schedule, occurrence, started_at FROM schedule_runs WHERE status = 'running' AND schedule = ANY($1::text[]) ORDER BY started_at`,
      [names],
    );
    return rows.map((r) => ({ schedule: r.schedule, occurrence: r.occurrence, startedAt: r.started_at }));
  }

  /**
   * How far the turns these inbound messages asked for have got: the message's status as the
   * orchestrator marks it (`pending`, `processing`, `held`, `paused`, then `done` or `failed`
   * with what the chat was told, see orchestrator/turn/thread-sql.ts). A message not there is
   * missing from the map.
   */
  async turnOutcomes(ids: string[]): Promise<Map<string, { status: string; error: string | null }>> {
    const { rows } = await this.pool.query<{ id: string; status: string; error: string | null }>(`SELECT id, status, error FROM inbound_messages WHERE id = ANY($1::text[])`, [ids]);
    return new Map(rows.map((r) => [r.id, { status: r.status, error: r.error }]));
  }

  /** Flips the failing flag; true only for the caller that changed it (so a failure is reported once). */
  async setFailing(name: string, failing: boolean): Promise<boolean> {
    const { rows } = await this.pool.query(`UPDATE schedule_state SET failing = $2, updated_at = now() WHERE name = $1 AND failing <> $2 RETURNING name`, [name, failing]);
    return rows.length === 1;
  }

  /** The latest run of each schedule, and whether it is failing. */
  async latest(names: string[]): Promise<Map<string, { run?: ScheduleRun; failing: boolean }>> {
    const { rows } = await this.pool.query<RunRow & { failing: boolean | null; name: string }>(
      `SELECT n.name, s.failing, r.* FROM unnest($1::text[]) AS n(name)
       LEFT JOIN schedule_state s ON s.name = n.name
       LEFT JOIN LATERAL (SELECT * FROM schedule_runs WHERE schedule = n.name ORDER BY started_at DESC, occurrence DESC LIMIT 1) r ON true`,
      [names],
    );
    return new Map(rows.map((r) => [r.name, { ...(r.schedule ? { run: toRun(r) } : {}), failing: !!r.failing }]));
  }

  /** Runs of one schedule, newest first. */
  async runs(schedule: string, limit = 20): Promise<ScheduleRun[]> {
    const { rows } = await this.pool.query<RunRow>(`SELECT * FROM schedule_runs WHERE schedule = $1 ORDER BY started_at DESC, occurrence DESC LIMIT $2`, [schedule, limit]);
    return rows.map(toRun);
  }
}
