import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import type { Logger } from '../log.js';
import { ABSENT, ACQUIRE, CHANNEL, PRESENT, RELEASE, RENEW } from './lease-sql.js';
import type { Fence, Holding, Leases } from './types.js';

interface Entry {
  name: string;
  holding: Holding;
  /** Set while this process owns the lease and its connection is started (or starting). */
  fence?: Fence;
  /** Stops the connection when the lease could not be renewed in time. */
  watchdog?: NodeJS.Timeout;
  /** Start, stop and renewals of one lease, one after another. */
  chain: Promise<void>;
  /** The connection's start, which renewals do not wait for (a slow platform must not cost the lease); a stop waits for it. */
  starting?: Promise<void>;
  busy: boolean;
  /** When this process took it (the latest taken is the first handed on when it owns more than its share). */
  takenAt?: number;
  /** Since when it has been seen free while this process was at its share: after a renewal period, it takes it anyway. */
  freeSince?: number;
}

export interface PgLeasesOptions {
  pool: pg.Pool;
  logger: Logger;
  /** How long a lease lasts without renewal (`leases.ttlSeconds`). */
  ttlMs: number;
  /** Renewals and takeover attempts (default a quarter of the TTL). */
  renewMs?: number;
  /**
   * The database URL, for a connection of its own that LISTENs for leases given up, so a replica
   * waiting for one takes it at once rather than at its next attempt.
   */
  listenUrl?: string;
}

/** A lease's group, shared out on its own: `mattermost:socket` for `mattermost:socket:athena`, `telegram` for `telegram:poller`. */
const groupOf = (name: string): string => name.slice(0, Math.max(0, name.lastIndexOf(':')));

/**
 * Leases in the `leases` table (replicas sharing one Postgres). Every `renewMs` each held lease
 * is renewed, or tried when another owns it; an owner that cannot renew stops its connection
 * before the lease expires in the database (`ttl` minus one renewal period, by its own clock), so
 * two owners never overlap. Plain rows, not advisory locks: pglite-socket shares one session
 * between connections, and a row survives a pool's reconnects.
 *
 * The connections are spread over the replicas, group by group (a platform's bots): each takes a
 * free lease only while it owns fewer than its share of the lease's group (the group's names over
 * the live replicas, rounded up; a presence row per replica says who is live), and one that owns
 * more than its share (a replica joined) hands one on per renewal period. A lease left free for a renewal period is taken by anyone, whatever the shares.
 */
export class PgLeases implements Leases {
  readonly kind = 'postgres';
  readonly owner = `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
  private readonly entries = new Map<string, Entry>();
  private readonly renewMs: number;
  private timer: NodeJS.Timeout | undefined;
  private reachable = true;
  private closed = false;
  private listener: pg.Client | undefined;
  private relisten: NodeJS.Timeout | undefined;
  /** Live replicas holding leases, this one included, as of the last renewal. */
  private replicas = 1;

  constructor(private readonly opts: PgLeasesOptions) {
    this.renewMs = opts.renewMs ?? Math.max(250, Math.floor(opts.ttlMs / 4));
  }

  hold(name: string, holding: Holding): void {
    if (this.entries.has(name)) throw new Error(`lease ${name} is already held`);
    const entry: Entry = { name, holding, chain: Promise.resolve(), busy: false };
    this.entries.set(name, entry);
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), this.renewMs);
      this.timer.unref();
      void this.listen();
      void this.present();
    }
    this.step(entry);
  }

  owned(): Array<{ name: string; up: boolean }> {
    return [...this.entries.values()].filter((e) => e.fence).map((e) => ({ name: e.name, up: e.holding.up?.() ?? true }));
  }

  healthy(): boolean {
    return this.reachable;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.relisten);
    await this.listener?.end().catch(() => {});
    // Gone from the count first, so the replicas taking what this one gives up take all of it.
    if (this.timer) await this.opts.pool.query(ABSENT, [this.owner]).catch(() => {});
    await Promise.all([...this.entries.values()].map((e) => this.enqueue(e, () => this.giveUp(e))));
  }

  /** Hears leases given up elsewhere; without it (the connection failed) the periodic attempts still take them. */
  private async listen(): Promise<void> {
    if (!this.opts.listenUrl || this.closed) return;
    const client = new pg.Client({ connectionString: this.opts.listenUrl });
    const retry = () => {
      if (this.listener !== client) return;
      this.listener = undefined;
      void client.end().catch(() => {});
      if (!this.closed) this.relisten = setTimeout(() => void this.listen(), this.opts.ttlMs);
      this.relisten?.unref();
    };
    this.listener = client;
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', (n) => {
      const entry = n.channel === CHANNEL && n.payload ? this.entries.get(n.payload) : undefined;
      if (entry && !entry.fence) this.step(entry);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      this.opts.logger.debug({ err: (err as Error).message }, 'cannot listen for leases given up; taking them at the next attempt');
      retry();
    }
  }

  /** Presence first (so a dead replica's lapses before its leases do), then every lease, then the share. */
  private async tick(): Promise<void> {
    await this.present();
    if (this.closed) return;
    for (const entry of this.entries.values()) this.step(entry);
    this.handOnExcess();
  }

  private async present(): Promise<void> {
    try {
      const { rows } = await this.opts.pool.query<{ replicas: number }>(PRESENT, [this.owner, this.opts.ttlMs]);
      this.replicas = rows[0]?.replicas ?? 1;
    } catch (err) {
      this.opts.logger.debug({ err: (err as Error).message }, "could not renew this replica's presence");
    }
  }

  /** The held leases of a group (each persona's bot on one platform is one group). */
  private members(group: string): Entry[] {
    return [...this.entries.values()].filter((e) => groupOf(e.name) === group);
  }

  /** Owning more than its share of a group (another replica joined): the latest taken is given up, for a replica under its share. */
  private handOnExcess(): void {
    if (this.replicas < 2) return;
    for (const group of new Set([...this.entries.keys()].map(groupOf))) {
      const entries = this.members(group);
      const share = Math.ceil(entries.length / this.replicas);
      const owned = entries.filter((e) => e.fence);
      if (owned.length <= share) continue;
      const latest = owned.reduce((a, b) => ((b.takenAt ?? 0) > (a.takenAt ?? 0) ? b : a));
      this.opts.logger.info(
        { lease: latest.name, owner: this.owner, owned: owned.length, share, replicas: this.replicas },
        `handing ${latest.name} on: ${this.replicas} replicas share ${entries.length} of ${group}`,
      );
      void this.enqueue(latest, () => this.giveUp(latest));
      return;
    }
  }

  /** One renewal or takeover attempt, skipped while the previous one is still under way. */
  private step(entry: Entry): void {
    if (entry.busy || this.closed) return;
    entry.busy = true;
    void this.enqueue(entry, () => (entry.fence ? this.renew(entry) : this.acquire(entry))).finally(() => {
      entry.busy = false;
    });
  }

  private enqueue(entry: Entry, fn: () => Promise<void>): Promise<void> {
    entry.chain = entry.chain.then(fn).catch((err) => this.opts.logger.warn({ lease: entry.name, err: (err as Error).message }, 'lease step failed'));
    return entry.chain;
  }

  private async acquire(entry: Entry): Promise<void> {
    const sentAt = Date.now();
    const force = entry.freeSince !== undefined && sentAt - entry.freeSince >= this.renewMs;
    let row: { token: string | null; previous: string | null; free: boolean } | undefined;
    try {
      ({
        rows: [row],
      } = await this.opts.pool.query<{ token: string | null; previous: string | null; free: boolean }>(ACQUIRE, [
        entry.name,
        this.owner,
        this.opts.ttlMs,
        this.members(groupOf(entry.name)).length,
        force,
        groupOf(entry.name),
      ]));
      this.reachable = true;
    } catch (err) {
      this.reachable = false;
      this.opts.logger.warn({ lease: entry.name, err: (err as Error).message }, 'could not try to take a lease');
      return;
    }
    if (!row?.token) {
      // Free but not ours to take yet (this replica has its share): another under its share may take it.
      entry.freeSince = row?.free ? (entry.freeSince ?? sentAt) : undefined;
      return;
    }
    entry.freeSince = undefined;
    if (this.closed) return;
    const fence: Fence = { name: entry.name, token: Number(row.token) };
    entry.fence = fence;
    entry.takenAt = sentAt;
    this.arm(entry, sentAt);
    const from = row.previous && row.previous !== this.owner ? row.previous : undefined;
    this.opts.logger.info({ lease: entry.name, owner: this.owner, token: fence.token, ...(from ? { from } : {}) }, from ? `took over ${entry.name} from ${from}` : `took ${entry.name}`);
    entry.starting = entry.holding.start(fence).catch((err) => {
      this.opts.logger.error({ lease: entry.name, err: (err as Error).message }, `${entry.name} could not start here; giving the lease up`);
      if (entry.fence === fence) void this.enqueue(entry, () => this.giveUp(entry));
    });
  }

  private async renew(entry: Entry): Promise<void> {
    const fence = entry.fence!;
    const sentAt = Date.now();
    let renewed: boolean;
    try {
      const result = await this.opts.pool.query(RENEW, [fence.name, this.owner, fence.token, this.opts.ttlMs]);
      renewed = result.rowCount === 1;
      this.reachable = true;
    } catch (err) {
      this.reachable = false;
      this.opts.logger.warn({ lease: entry.name, err: (err as Error).message }, 'could not renew a lease; the connection stops if it cannot be renewed in time');
      return;
    }
    if (entry.fence !== fence) return; // lost meanwhile (the watchdog)
    if (renewed) return this.arm(entry, sentAt);
    const { rows } = await this.opts.pool.query<{ owner: string; token: string }>('SELECT owner, token::text AS token FROM leases WHERE name = $1', [fence.name]).catch(() => ({ rows: [] }));
    await this.lose(entry, `taken over by ${rows[0]?.owner ?? 'another replica'}`);
  }

  /** The lease is good until one renewal period before it expires in the database, by our clock. */
  private arm(entry: Entry, sentAt: number): void {
    clearTimeout(entry.watchdog);
    const fence = entry.fence;
    const ms = sentAt + this.opts.ttlMs - this.renewMs - Date.now();
    entry.watchdog = setTimeout(
      () => {
        if (entry.fence === fence) void this.enqueue(entry, () => this.lose(entry, 'not renewed in time'));
      },
      Math.max(0, ms),
    );
    entry.watchdog.unref();
  }

  private async lose(entry: Entry, why: string): Promise<void> {
    if (!entry.fence) return;
    const { token } = entry.fence;
    entry.fence = undefined;
    clearTimeout(entry.watchdog);
    this.opts.logger.warn({ lease: entry.name, owner: this.owner, token }, `lost ${entry.name} (${why}): stopping it here`);
    await entry.starting;
    await entry.holding.stop().catch((err) => this.opts.logger.warn({ lease: entry.name, err }, 'a connection did not stop cleanly'));
  }

  /** Stops the connection, then expires the lease so another replica takes it at once. */
  private async giveUp(entry: Entry): Promise<void> {
    const fence = entry.fence;
    if (!fence) return;
    entry.fence = undefined;
    clearTimeout(entry.watchdog);
    await entry.starting;
    await entry.holding.stop().catch((err) => this.opts.logger.warn({ lease: entry.name, err }, 'a connection did not stop cleanly'));
    await this.opts.pool
      .query(RELEASE, [fence.name, this.owner, fence.token])
      .catch((err) => this.opts.logger.warn({ lease: entry.name, err: (err as Error).message }, 'could not give a lease up; it expires by itself'));
    this.opts.logger.info({ lease: entry.name, owner: this.owner, token: fence.token }, `gave up ${entry.name}`);
  }
}
