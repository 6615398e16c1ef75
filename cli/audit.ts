import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { AuditLog, AUDIT_KINDS, MAX_AUDIT_LIMIT, type AuditEntry, type AuditKind } from '../core/audit/audit-log.js';
import { parseSince } from '../core/audit/since.js';
import { ConfigError, loadConfig } from '../core/config/index.js';
import { createDatabase } from '../core/db/index.js';
import { DataDirInUseError } from '../core/db/data-dir-lock.js';
import { liveServerRecord, serverRecordPath } from '../core/server-record.js';
import { migrate } from '../core/db/migrate.js';
import { createLogger } from '../core/log.js';
import { authorization, resolveServerToken, unauthorizedMessage } from './server-token.js';
import { CommandError } from './command-error.js';

/** Where `pantheon audit` and `pantheon work` read from: a running server, or the database itself. */
export interface ReadSourceOptions {
  /** A running server; also $PANTHEON_URL. */
  url?: string;
  config?: string;
  dataDir?: string;
  /** Port probed on 127.0.0.1 when no URL is given (default $PORT, else 3000). */
  port?: string | number;
}

export interface AuditCommandOptions extends ReadSourceOptions {
  persona?: string;
  tool?: string;
  thread?: string;
  kind?: string;
  outcome?: string;
  /** ISO time or a duration back from now: 30m, 2h, 7d. */
  since?: string;
  limit?: number | string;
  json?: boolean;
}

/**
 * `pantheon audit`: the tool calls and approval decisions, newest first, as a table or as
 * JSON lines (`--json`). Reads over the HTTP API when a server answers (the embedded
 * database belongs to the process that runs it), otherwise opens the database directly.
 */
export async function auditCommand(opts: AuditCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const since = opts.since === undefined ? undefined : usage('--since', () => parseSince(opts.since!));
  const limit =
    opts.limit === undefined
      ? undefined
      : Math.min(
          usage('--limit', () => positiveInt(opts.limit!)),
          MAX_AUDIT_LIMIT,
        );
  if (opts.kind !== undefined && !(AUDIT_KINDS as readonly string[]).includes(opts.kind)) {
    throw new ConfigError('--kind', '', `unknown kind "${opts.kind}": use ${AUDIT_KINDS.join(' or ')}`);
  }
  const filter = { persona: opts.persona, tool: opts.tool, thread: opts.thread, kind: opts.kind as AuditKind | undefined, outcome: opts.outcome, since, limit };

  const server = await findServer(opts);
  let entries: AuditEntry[];
  if (server) {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...filter, since: since?.toISOString() })) if (v !== undefined && v !== '') query.set(k, String(v));
    entries = ((await getJson(server, `/api/audit?${query}`)) as { entries: AuditEntry[] }).entries;
  } else {
    entries = await withDatabase(opts, (pool) => new AuditLog(pool).query(filter));
  }

  if (opts.json) {
    for (const e of entries) out.write(JSON.stringify(e) + '\n');
    return;
  }
  if (entries.length === 0) {
    out.write('No audit entries match.\n');
    return;
  }
  out.write(formatTable(['TIME', 'PERSONA', 'TOOL', 'OUTCOME', 'APPROVAL', 'DURATION', 'ARGS'], entries.map(auditRow)));
}

function auditRow(e: AuditEntry): string[] {
  const approval = e.approvalId ? (e.actor ? `${e.approvalId} by ${e.actor}` : e.approvalId) : e.actor ? `by ${e.actor}` : '';
  const args = e.args === null || e.args === undefined ? '' : JSON.stringify(e.args);
  const shown = [args, e.detail ?? ''].filter(Boolean).join(' — ');
  return [formatTime(e.at), e.persona ?? '', e.tool ?? '', e.outcome, approval, formatDuration(e.durationMs), truncate(shown, 100)];
}

// ---- shared by `pantheon audit` and `pantheon work` -------------------------------------

/**
 * The base URL of a server to read from: `--url` or $PANTHEON_URL as given (an unreachable
 * one is then an error, not a reason to open the database behind its back), else the server
 * recorded in the data dir (`<dataDir>/server.json`, written by `pantheon start`) if its process
 * is alive and answers, else http://127.0.0.1:$PORT (3000) if its /healthz answers, else
 * undefined (the database is opened directly). When there is a server, its API token is looked
 * up too (see `resolveServerToken`), so no flag is needed.
 */
export async function findServer(opts: ReadSourceOptions): Promise<string | undefined> {
  const base = await locateServer(opts);
  if (base) await resolveServerToken(opts);
  return base;
}

async function locateServer(opts: ReadSourceOptions): Promise<string | undefined> {
  const explicit = opts.url ?? process.env.PANTHEON_URL;
  if (explicit) return explicit.replace(/\/+$/, '');
  const { config } = await loadConfig({ configPath: opts.config, dataDir: opts.dataDir });
  const recorded = liveServerRecord(config.dataDir);
  // A live process recorded in the data dir is the server: it gets longer to answer than a guessed port.
  if (recorded && (await answersHealth(recorded.url, 5000))) return recorded.url;
  const candidate = `http://127.0.0.1:${opts.port ?? process.env.PORT ?? 3000}`;
  return (await answersHealth(candidate)) ? candidate : undefined;
}

/** Whether a Pantheon answers `/healthz` at this base URL in time. */
async function answersHealth(base: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** GETs a console API path with the server's API token; errors say what to fix. */
export async function getJson(base: string, path: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, { headers: authorization(), signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new CommandError(
      `cannot reach Pantheon at ${base} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); is \`pantheon start\` running? Without --url and PANTHEON_URL the database is read directly.`,
    );
  }
  const body = (await res.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
  if (res.ok && body) return body;
  if (res.status === 401) throw new CommandError(unauthorizedMessage());
  throw new HttpAnswerError(res.status, `GET ${base}${path.split('?')[0]} answered ${res.status}${body?.error?.message ? `: ${body.error.message}` : ''}`);
}

export class HttpAnswerError extends CommandError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpAnswerError';
  }
}

/**
 * Opens the configured database (as `pantheon migrate` does, migrating it), runs `fn`, closes
 * it. An embedded data dir must already exist. Logs go to stderr at warn level, so stdout
 * holds only the answer.
 */
export async function withDatabase<T>(opts: ReadSourceOptions, fn: (pool: import('pg').Pool) => Promise<T>): Promise<T> {
  const { config } = await loadConfig({ configPath: opts.config, dataDir: opts.dataDir });
  // Reading must not leave a new, empty database behind in the wrong directory.
  if (!config.database.url && !existsSync(join(config.dataDir, 'pgdata', 'PG_VERSION'))) {
    throw new CommandError(`no Pantheon database in ${config.dataDir} (nothing has run there yet). Pass the --data-dir that \`pantheon start\` uses, or --url of a running server.`);
  }
  const logger = createLogger({ level: process.env.PANTHEON_LOG_LEVEL ?? 'warn', destination: pino.destination({ dest: 2, sync: true }) });
  let db;
  try {
    db = await createDatabase({ url: config.database.url, dataDir: config.dataDir, sharedBuffers: config.database.sharedBuffers, logger });
  } catch (err) {
    const inUse = err instanceof DataDirInUseError ? err : (err as Error).cause;
    if (inUse instanceof DataDirInUseError) {
      const who = inUse.holder ? `pid ${inUse.holder.pid}` : 'another process';
      throw new Error(
        `the embedded database in ${config.dataDir} is in use by ${who}, and no server of it answers over HTTP (${serverRecordPath(config.dataDir)} names none that is alive): wait until it has started, stop it, or pass --url`,
        { cause: err },
      );
    }
    throw err;
  }
  try {
    await migrate(db.pool, { logger });
    return await fn(db.pool);
  } finally {
    await db.close();
  }
}

/** Columns padded to the widest cell; the last column is not padded. */
export function formatTable(header: string[], rows: string[][]): string {
  const cells = [header, ...rows].map((r) => r.map((c) => (c === '' ? '-' : c)));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => [...(r[i] ?? '')].length)));
  return (
    cells
      .map((r) =>
        r
          .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** `2025-03-01 12:00:05Z`: UTC, to the second. */
export function formatTime(at: Date | string): string {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? String(at) : `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export function truncate(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}

/** Runs a parse of a command-line value; its error becomes a usage error (exit code 2). */
export function usage<T>(option: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new ConfigError(option, '', (err as Error).message);
  }
}

function positiveInt(value: number | string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a whole number of at least 1, got "${value}"`);
  return n;
}
