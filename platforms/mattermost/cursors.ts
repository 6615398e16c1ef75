import type pg from 'pg';
import { fenced, fenceParams, type Fence } from '../../core/leases/index.js';
import type { Logger } from '../../core/log.js';

/**
 * How far each channel has been read: the `create_at` of the newest post handed to the ingress
 * (or skipped as not for us). Kept in memory, written to `mattermost_cursors` every few seconds
 * and on stop, so a catch-up after a deaf socket or a restart starts where reading stopped.
 * Losing the last few seconds in a crash only means re-reading posts the ingress dedupes.
 * Writes carry the token of one of this process's `mattermost:socket:<persona>` leases: a replica
 * that owns none of them any more writes nothing. Every bot in a channel sees the same posts and
 * a cursor only moves past posts taken in, so replicas owning different bots share a channel's
 * cursor (the greater wins).
 */
export class ChannelCursors {
  private readonly at = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** The leases of the bots this process listens for, by lease name. */
  private readonly fences = new Map<string, Fence>();
  private fenced = false;

  constructor(private readonly deps: { pool?: pg.Pool; logger: Logger; flushEveryMs?: number }) {}

  /**
   * Reads the saved cursors (again: another replica may have moved them) as a bot starts to
   * listen under `fence`, and saves them every few seconds while any bot listens here.
   */
  async load(fence?: Fence): Promise<void> {
    if (fence) {
      this.fences.set(fence.name, fence);
      this.fenced = true;
    }
    if (!this.deps.pool) return;
    const { rows } = await this.deps.pool.query<{ channel_id: string; last_post_at: string }>('SELECT channel_id, last_post_at FROM mattermost_cursors');
    for (const r of rows) this.at.set(r.channel_id, Math.max(Number(r.last_post_at), this.at.get(r.channel_id) ?? 0));
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.deps.flushEveryMs ?? 2000);
    this.timer.unref();
  }

  /** A bot stops listening here: what it read is saved under its lease, which then no longer counts. */
  async unload(fence: Fence): Promise<void> {
    await this.flush();
    this.fences.delete(fence.name);
    if (this.fences.size === 0) await this.stop();
  }

  get(channelId: string): number | undefined {
    return this.at.get(channelId);
  }

  advance(channelId: string, createAt: number): void {
    if ((this.at.get(channelId) ?? 0) >= createAt) return;
    this.at.set(channelId, createAt);
    this.dirty.add(channelId);
  }

  async flush(): Promise<void> {
    if (!this.deps.pool || this.dirty.size === 0) return;
    const fence = [...this.fences.values()].at(-1) ?? (this.fenced ? undefined : { name: 'mattermost:sockets', token: 0 });
    if (!fence) return;
    const ids = [...this.dirty];
    this.dirty.clear();
    try {
      for (const id of ids) {
        await this.deps.pool.query(
          `INSERT INTO mattermost_cursors (channel_id, last_post_at) SELECT $1, $2 WHERE ${fenced(3)}
           ON CONFLICT (channel_id) DO UPDATE SET last_post_at = GREATEST(mattermost_cursors.last_post_at, EXCLUDED.last_post_at), updated_at = now()`,
          [id, this.at.get(id), ...fenceParams(fence)],
        );
      }
    } catch (err) {
      for (const id of ids) this.dirty.add(id);
      this.deps.logger.warn({ err: (err as Error).message }, 'could not save Mattermost read cursors');
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
