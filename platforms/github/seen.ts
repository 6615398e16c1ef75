import type pg from 'pg';

/**
 * Claims of "this happening has woken the team" (table `github_seen`), shared by the webhook
 * and polling paths. One statement, so two processes or two paths racing both ask Postgres and
 * exactly one wins. The claiming source may claim again (its job is being retried).
 */
export class SeenActivities {
  constructor(private readonly pool: pg.Pool) {}

  /** True when `source` holds the claim on `key` now (first, retrying, or the window has passed). */
  async claim(key: string, source: string, windowSeconds?: number): Promise<boolean> {
    const { rows } = await this.pool.query<{ source: string }>(
      `INSERT INTO github_seen (key, source, seen_at) VALUES ($1, $2, now())
       ON CONFLICT (key) DO UPDATE SET source = EXCLUDED.source, seen_at = now()
       WHERE github_seen.source = EXCLUDED.source
          OR ($3::int IS NOT NULL AND github_seen.seen_at < now() - $3::int * interval '1 second')
       RETURNING source`,
      [key, source, windowSeconds ?? null],
    );
    return rows.length > 0;
  }

  /** Forgets a claim (an unassignment: the next assignment of the same persona wakes it again). */
  async release(key: string): Promise<void> {
    await this.pool.query('DELETE FROM github_seen WHERE key = $1', [key]);
  }
}
