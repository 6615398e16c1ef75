/**
 * Leases: one owner at a time for each connection that must be single across the replicas of
 * one installation (a bot's socket or poller, GitHub polling, the idle-conversation summaries).
 *
 * A module asks to `hold` a named connection with how to start and stop it. The lease service
 * starts it in the one process that owns the name and stops it there when the lease is lost or
 * given up; another replica takes the name over once it has not been renewed for the TTL, or at
 * once when its owner gives it up (SIGTERM). Every change of owner increments the lease's
 * `token` (the fence): a write that must not come from a stale owner checks it
 * (`fencedWhere`).
 */
export interface Fence {
  /** The lease's name, e.g. `telegram:poller`. */
  name: string;
  /** Grows by one at every change of owner. */
  token: number;
}

/** A connection held under a lease. */
export interface Holding {
  /** Connects; called once this process owns the lease. A throw gives the lease up to be tried again. */
  start(fence: Fence): Promise<void>;
  /** Disconnects (the lease was lost, or is being given up). Must finish what it has taken in. */
  stop(): Promise<void>;
  /** Whether the connection is up, for `/readyz` (default: started). */
  up?(): boolean;
}

export interface Leases {
  /** 'sole': this process owns everything (the embedded database); 'postgres': the `leases` table. */
  readonly kind: 'sole' | 'postgres';
  /** This process's owner id, as recorded in the `leases` table and logged. */
  readonly owner: string;
  /** Holds `name` whenever it can: starts `holding` while this process owns it. */
  hold(name: string, holding: Holding): void;
  /** The names this process owns now, each with whether its connection is up. */
  owned(): Array<{ name: string; up: boolean }>;
  /** Whether the last renewal reached the database. */
  healthy(): boolean;
  /** Stops every held connection and gives the leases up, so other replicas take them at once. */
  close(): Promise<void>;
}
