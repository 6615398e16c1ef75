import { readFileSync } from 'node:fs';
import { Client, type ConnectConfig } from 'ssh2';
import type { Logger } from '../../core/log.js';
import type { Host, HostRegistry } from './hosts.js';
import { hostKeyAlgorithms, knownHostName, knownKeyTypes, readKnownHosts, verifyHostKey } from './known-hosts.js';

/** A refused host key: never retried, the message says what to check. */
export class HostKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostKeyError';
  }
}

export interface SshPoolOptions {
  registry: HostRegistry;
  logger?: Pick<Logger, 'info' | 'warn' | 'debug'>;
  keepaliveSeconds?: number;
  /** A connection older than this takes no new work and is replaced. */
  maxAgeSeconds?: number;
  /** A connection unused this long is closed. */
  idleSeconds?: number;
  connectTimeoutSeconds?: number;
}

interface Connection {
  host: string;
  client: Client;
  ready: Promise<void>;
  createdAt: number;
  lastUsed: number;
  /** Channels open on it right now. */
  active: number;
  closed: boolean;
  /** Past its maximum age: closes once its last channel does. */
  retiring: boolean;
}

/** A borrowed connection: `release()` when the channel on it has closed. */
export interface SshLease {
  client: Client;
  release(): void;
  /** Marks the connection dead (a channel could not be opened): the next acquire reconnects. */
  discard(): void;
}

/**
 * One SSH connection per host, opened on first use (lazy), kept alive with keep-alive packets,
 * replaced after `maxAgeSeconds`, closed when idle, and reconnected when it died. Every
 * connection checks the host key against known_hosts first (see known-hosts.ts).
 */
export class SshPool {
  private readonly conns = new Map<string, Connection>();
  private readonly sweep: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly opts: SshPoolOptions) {
    this.sweep = setInterval(() => this.closeIdle(), 10_000);
    this.sweep.unref();
  }

  async acquire(hostName: string): Promise<SshLease> {
    if (this.stopped) throw new Error('the SSH pool is closed');
    const host = this.opts.registry.get(hostName);
    let conn = this.conns.get(host.name);
    const maxAgeMs = (this.opts.maxAgeSeconds ?? 3600) * 1000;
    if (conn && !conn.closed && Date.now() - conn.createdAt > maxAgeMs) {
      conn.retiring = true;
      if (conn.active === 0) this.end(conn);
      conn = undefined;
    }
    if (!conn || conn.closed || conn.retiring) {
      conn = this.connect(host);
      this.conns.set(host.name, conn);
    }
    const current = conn;
    try {
      await current.ready;
    } catch (err) {
      if (this.conns.get(host.name) === current) this.conns.delete(host.name);
      throw err;
    }
    current.active++;
    current.lastUsed = Date.now();
    let released = false;
    return {
      client: current.client,
      release: () => {
        if (released) return;
        released = true;
        current.active--;
        current.lastUsed = Date.now();
        if (current.retiring && current.active === 0) this.end(current);
      },
      discard: () => this.end(current),
    };
  }

  /** Open connections by host (for tests and /status). */
  openHosts(): string[] {
    return [...this.conns.values()].filter((c) => !c.closed).map((c) => c.host);
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweep);
    for (const conn of this.conns.values()) this.end(conn);
    this.conns.clear();
  }

  private connect(host: Host): Connection {
    const client = new Client();
    const conn: Connection = { host: host.name, client, ready: Promise.resolve(), createdAt: Date.now(), lastUsed: Date.now(), active: 0, closed: false, retiring: false };
    const file = this.opts.registry.knownHostsFile;
    conn.ready = new Promise<void>((resolve, reject) => {
      let refusal: string | undefined;
      let settled = false;
      const entries = readKnownHosts(file);
      const types = knownKeyTypes(entries, knownHostName(host.address, host.port));
      const config: ConnectConfig = {
        host: host.address,
        port: host.port,
        username: host.user,
        readyTimeout: (this.opts.connectTimeoutSeconds ?? 15) * 1000,
        keepaliveInterval: (this.opts.keepaliveSeconds ?? 15) * 1000,
        keepaliveCountMax: 3,
        // Offer only the key types on file, as ssh does, so a host with several keys is checked against the one we know.
        ...(types.length ? { algorithms: { serverHostKey: hostKeyAlgorithms(types) as never } } : {}),
        hostVerifier: (key: Buffer) => {
          const verdict = verifyHostKey(entries, { host: host.name, address: host.address, port: host.port, key, file });
          if (!verdict.ok) refusal = verdict.message;
          return verdict.ok;
        },
      };
      try {
        if (host.privateKey) config.privateKey = readFileSync(host.privateKey);
        if (host.agent) config.agent = host.agent;
        const password = this.opts.registry.password(host);
        if (password) config.password = password;
      } catch (err) {
        conn.closed = true;
        return reject(new Error(`cannot log in to ${host.name}: ${(err as Error).message}`));
      }
      if (!config.privateKey && !config.agent && !config.password) {
        conn.closed = true;
        return reject(new Error(`host ${host.name} has no way to log in: set privateKey, agent or passwordEnv in infra.hosts`));
      }
      client.on('ready', () => {
        settled = true;
        this.opts.logger?.info({ host: host.name }, 'ssh connected');
        resolve();
      });
      client.on('error', (err: Error & { level?: string }) => {
        conn.closed = true;
        if (settled) {
          this.opts.logger?.warn({ host: host.name, err: err.message }, 'ssh connection error');
          return;
        }
        settled = true;
        if (refusal) return reject(new HostKeyError(refusal));
        const hint =
          err.level === 'client-authentication' ? ` (the server refused ${host.user}'s credentials: check privateKey/agent/passwordEnv of ${host.name} and the server's authorized_keys)` : '';
        reject(new Error(`could not connect to ${host.name} (${host.address}:${host.port}) as ${host.user}: ${err.message}${hint}`));
      });
      client.on('close', () => {
        conn.closed = true;
        if (!settled) {
          settled = true;
          reject(refusal ? new HostKeyError(refusal) : new Error(`connection to ${host.name} closed before it was ready`));
        }
      });
      client.connect(config);
    });
    conn.ready.catch(() => {});
    return conn;
  }

  private end(conn: Connection): void {
    if (this.conns.get(conn.host) === conn) this.conns.delete(conn.host);
    if (conn.closed) return;
    conn.closed = true;
    try {
      conn.client.end();
    } catch {
      // already gone
    }
  }

  private closeIdle(): void {
    const idleMs = (this.opts.idleSeconds ?? 300) * 1000;
    for (const conn of [...this.conns.values()]) {
      if (conn.active === 0 && Date.now() - conn.lastUsed > idleMs) this.end(conn);
    }
  }
}
