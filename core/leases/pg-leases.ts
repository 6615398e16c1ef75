import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import type { Logger } from '../log.js';
import type { Fence, Holding, Leases } from './types.js';

/** Takes `name` when it is free, expired or already ours; a change of owner increments the token. */
const ACQUIRE = `
WITH prev AS (SELECT owner FROM leases WHERE name = $1)
INSERT INTO leases AS l (name, owner, token, expires_at) VALUES ($1, $2, 1, now() + make_interval(secs => $3::float8 / 1000))
ON CONFLICT (name) DO UPDATE SET
  owner = EXCLUDED.owner,
  token = CASE WHEN l.owner = EXCLUDED.owner THEN l.token ELSE l.token + 1 END,
  acquired_at = CASE WHEN l.owner = EXCLUDED.owner THEN l.acquired_at ELSE now() END,
  expires_at = EXCLUDED.expires_at
WHERE l.owner = EXCLUDED.owner OR l.expires_at <= now()
RETURNING l.token::text AS token, (SELECT owner FROM prev) AS previous`;
const RENEW = `UPDATE leases SET expires_at = now() + make_interval(secs => $4::float8 / 1000) WHERE name = $1 AND owner = $2 AND token = $3`;
/** Expired at once, and said on the `pantheon_leases` channel so a waiting replica tries at once. */
const RELEASE = `WITH released AS (UPDATE leases SET expires_at = now() - interval '1 millisecond' WHERE name = $1 AND owner = $2 AND token = $3 RETURNING name)
SELECT pg_notify('pantheon_leases', name) FROM released`;
const CHANNEL = 'pantheon_leases';

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

/**
 * Leases in the `leases` table (replicas sharing one Postgres). Every `renewMs` each held lease
 * is renewed, or tried when another owns it; an owner that cannot renew stops its connection
 * before the lease expires in the database (`ttl` minus one renewal period, by its own clock), so
 * two owners never overlap. Plain rows, not advisory locks: pglite-socket shares one session
 * between connections, and a row survives a pool's reconnects.
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

  constructor(private readonly opts: PgLeasesOptions) {
    this.renewMs = opts.renewMs ?? Math.max(250, Math.floor(opts.ttlMs / 4));
  }

  hold(name: string, holding: Holding): void {
    if (this.entries.has(name)) throw new Error(`lease ${name} is already held`);
    const entry: Entry = { name, holding, chain: Promise.resolve(), busy: false };
    this.entries.set(name, entry);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.renewMs);
      this.timer.unref();
      void this.listen();
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

  private tick(): void {
    for (const entry of this.entries.values()) this.step(entry);
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
    let row: { token: string; previous: string | null } | undefined;
    try {
      ({
        rows: [row],
      } = await this.opts.pool.query<{ token: string; previous: string | null }>(ACQUIRE, [entry.name, this.owner, this.opts.ttlMs]));
      this.reachable = true;
    } catch (err) {
      this.reachable = false;
      this.opts.logger.warn({ lease: entry.name, err: (err as Error).message }, 'could not try to take a lease');
      return;
    }
    if (!row || this.closed) return;
    const fence: Fence = { name: entry.name, token: Number(row.token) };
    entry.fence = fence;
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
