import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig, type LoadedConfig } from '../core/config/index.js';
import { createDatabase, describeUrl } from '../core/db/index.js';
import { dataDirLockHolder, dataDirLockKind } from '../core/db/data-dir-lock.js';
import { createLogger } from '../core/log.js';
import { WorkLedger } from '../ledger/ledger.js';
import { resolveSandbox } from '../tools/sandbox/resolve.js';
import { ledgerWorkItems } from '../tools/workspace/retention.js';
import { findServer, type ReadSourceOptions } from './audit.js';
import { modelFacts } from './doctor-models.js';
import { platformFacts } from './doctor-platforms.js';
import { knownHostsFacts, redisFacts } from './doctor-services.js';
import { exitCodeOf, fail, ok, renderSections, warn, type Fact, type Section } from './doctor-report.js';
import { serverWorkItems, workspaceFacts, type WorkItemSource, type WorkspaceReport } from './doctor-workspaces.js';

export interface DoctorCommandOptions extends ReadSourceOptions {
  json?: boolean;
  /** false with `--no-model-check`: the models are named, not asked. */
  modelCheck?: boolean;
}

/** What `pantheon doctor --json` prints. */
export interface DoctorReport {
  ok: boolean;
  sections: Section[];
  workspaces: WorkspaceReport[];
}

/**
 * `pantheon doctor`: what this installation is made of and whether it can run — the config, the
 * data dir, the database (and pgvector), Redis, the sandbox, the workspaces, whether each model can drive the tools, each
 * platform token and SSH host key — one fact per line, marked ✔, ⚠ or ✖, each problem with its fix.
 * Returns the exit code: 1 when anything is ✖. A configuration error is thrown (exit 2).
 * It asks a running server only for work items, and only when the embedded database is that
 * server's (`--url` or PANTHEON_URL names it, else 127.0.0.1 on the configured port).
 */
export async function doctorCommand(opts: DoctorCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const loaded = await loadConfig({ configPath: opts.config, dataDir: opts.dataDir });
  const { config } = loaded;
  const db = await databaseCheck(loaded, opts);
  try {
    const workspaces = await workspaceFacts({ dataDir: config.dataDir, config: config.workspaces, workItems: db.workItems });
    const sections: Section[] = [
      { title: 'Configuration', facts: configFacts(loaded) },
      { title: 'Data dir', facts: [await dataDirFact(config.dataDir)] },
      { title: 'Database', facts: db.facts },
      { title: 'Redis', facts: await redisFacts(loaded) },
      { title: 'Sandbox', facts: await sandboxFacts(loaded) },
      { title: 'Workspaces', facts: workspaces.facts },
      { title: 'Models', facts: await modelFacts(loaded, process.env, { check: opts.modelCheck !== false }) },
      { title: 'Platforms', facts: await platformFacts(loaded) },
    ];
    const hosts = knownHostsFacts(loaded);
    if (hosts.length) sections.push({ title: 'Infra hosts', facts: hosts });
    const exitCode = exitCodeOf(sections);
    const report: DoctorReport = { ok: exitCode === 0, sections, workspaces: workspaces.workspaces };
    out.write(opts.json ? `${JSON.stringify(report)}\n` : renderSections(sections));
    return exitCode;
  } finally {
    await db.close();
  }
}

/**
 * What the doctor can check from inside a running server (the console's Settings): the same
 * sections, with the server's own database connection, and models named rather than asked.
 */
export async function serverDoctor(loaded: LoadedConfig, pool: pg.Pool, databaseKind: string, env: NodeJS.ProcessEnv): Promise<{ ok: boolean; sections: Section[] }> {
  const database: Fact[] = [];
  try {
    await pool.query('SELECT 1');
    database.push(ok(`database: ${databaseKind === 'pglite' ? `embedded (PGlite) in ${join(loaded.config.dataDir, 'pgdata')}` : 'PostgreSQL'}, answers`), await pgvectorFact(pool));
  } catch (err) {
    database.push(fail(`database: does not answer: ${(err as Error).message}`));
  }
  const sections: Section[] = [
    { title: 'Configuration', facts: configFacts(loaded) },
    { title: 'Data dir', facts: [await dataDirFact(loaded.config.dataDir)] },
    { title: 'Database', facts: database },
    { title: 'Redis', facts: await redisFacts(loaded) },
    { title: 'Sandbox', facts: await sandboxFacts(loaded) },
    { title: 'Models', facts: await modelFacts(loaded, env, { check: false }) },
    { title: 'Platforms', facts: await platformFacts(loaded) },
  ];
  const hosts = knownHostsFacts(loaded, env);
  if (hosts.length) sections.push({ title: 'Infra hosts', facts: hosts });
  return { ok: exitCodeOf(sections) === 0, sections };
}

function configFacts(loaded: LoadedConfig): Fact[] {
  const ids = loaded.personas.map((p) => p.id).join(', ');
  return [
    ok(loaded.configFile ? `config: ${loaded.configFile}` : 'config: none found (no pantheon.yaml, --config or PANTHEON_CONFIG): built-in defaults'),
    ok(`personas: ${loaded.personas.length}${loaded.builtInTeam ? ' (the built-in sample team)' : ''} from ${loaded.personasDir}${ids ? `: ${ids}` : ''}`),
  ];
}

/** The data dir should be 0700: it holds the database, keys and every workspace. */
async function dataDirFact(dataDir: string): Promise<Fact> {
  const st = await stat(dataDir).catch(() => undefined);
  if (!st) return warn(`data dir: ${dataDir} does not exist yet (\`pantheon start\` creates it)`);
  const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
  if (st.mode & 0o077) return warn(`data dir: ${dataDir} is ${mode}, not private: other users can reach it (chmod 700 ${dataDir})`);
  return ok(`data dir: ${dataDir} (private, ${mode})`);
}

async function sandboxFacts(loaded: LoadedConfig): Promise<Fact[]> {
  // Trying the sandbox writes a few files; a data dir that does not exist yet is not made for it.
  const exists = existsSync(loaded.config.dataDir);
  const dataDir = exists ? loaded.config.dataDir : mkdtempSync(join(tmpdir(), 'pantheon-doctor-'));
  const { sandbox, problem, warnings } = await resolveSandbox(loaded.config.sandbox, { dataDir }).finally(() => {
    if (!exists) rmSync(dataDir, { recursive: true, force: true });
  });
  const facts: Fact[] = [];
  if (sandbox) facts.push(ok(`sandbox: ${sandbox.describe()}`));
  else facts.push(fail(`sandbox: ${problem?.message ?? 'no backend can run workspace commands here'}`));
  for (const w of warnings) facts.push(warn(`sandbox: ${w}`));
  return facts;
}

interface DatabaseCheck {
  facts: Fact[];
  /** Where work items come from; opens what it needs on first call. */
  workItems: () => Promise<WorkItemSource>;
  close(): Promise<void>;
}

/**
 * Says which database is configured and whether it answers, cheaply: a Postgres is asked
 * `SELECT 1`; the embedded one is only looked at (its lock file says whether a server has it).
 * Work items are read later, and only if a workspace needs them.
 */
async function databaseCheck(loaded: LoadedConfig, opts: DoctorCommandOptions): Promise<DatabaseCheck> {
  const { config } = loaded;
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const c of closers) await c().catch(() => {});
  };
  const fromServer = async (why: string): Promise<WorkItemSource> => {
    const base = await findServer({ url: opts.url, port: config.server.port, config: opts.config, dataDir: opts.dataDir });
    return base ? { lookup: serverWorkItems(base) } : { problem: why };
  };

  if (config.database.url) {
    const where = describeUrl(config.database.url);
    const pool = new pg.Pool({ connectionString: config.database.url, max: 1, connectionTimeoutMillis: 5000 });
    pool.on('error', () => {});
    closers.push(() => pool.end());
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      return { facts: [fail(`database: PostgreSQL at ${where} does not answer: ${(err as Error).message}`)], workItems: async () => ({ problem: 'the database does not answer' }), close };
    }
    return { facts: [ok(`database: PostgreSQL at ${where}, answers`), await pgvectorFact(pool)], workItems: async () => ({ lookup: ledgerWorkItems(new WorkLedger(pool)) }), close };
  }

  const pgdata = join(config.dataDir, 'pgdata');
  const lockPath = join(config.dataDir, 'pgdata.lock');
  if (!existsSync(join(pgdata, 'PG_VERSION'))) {
    // No database, so no work items: every workspace counts as having none.
    const facts = [ok(`database: embedded (PGlite) in ${pgdata}, not created yet (\`pantheon start\` creates it)`), lockFact(lockPath, 'free (no database yet)')];
    return { facts, workItems: async () => ({ lookup: { forIssue: async () => undefined } }), close };
  }
  const held = dataDirLockHolder(lockPath);
  if (held) {
    const holder = held.pid === undefined ? 'another process' : `pid ${held.pid}`;
    const facts = [ok(`database: embedded (PGlite) in ${pgdata}, in use by the running Pantheon (${holder})`), lockFact(lockPath, `held by a running Pantheon (${holder})`)];
    return { facts, workItems: () => fromServer(`the embedded database belongs to ${holder} and no server answers on port ${config.server.port}; pass --url`), close };
  }
  const workItems = async (): Promise<WorkItemSource> => {
    const logger = createLogger({ level: process.env.PANTHEON_LOG_LEVEL ?? 'warn', destination: pino.destination({ dest: 2, sync: true }) });
    try {
      const opened = await createDatabase({ dataDir: config.dataDir, sharedBuffers: config.database.sharedBuffers, logger });
      closers.push(() => opened.close());
      return { lookup: ledgerWorkItems(new WorkLedger(opened.pool)) };
    } catch (err) {
      return { problem: (err as Error).message };
    }
  };
  return { facts: [ok(`database: embedded (PGlite) in ${pgdata}, not in use`), lockFact(lockPath, 'free')], workItems, close };
}

/** Memory needs pgvector: installed in the database, or at least available to the migrations. */
async function pgvectorFact(pool: pg.Pool): Promise<Fact> {
  try {
    const installed = await pool.query<{ extversion: string }>("SELECT extversion FROM pg_extension WHERE extname = 'vector'");
    if (installed.rows[0]) return ok(`pgvector: ${installed.rows[0].extversion}, installed`);
    const available = await pool.query<{ default_version: string }>("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'");
    if (available.rows[0]) return ok(`pgvector: ${available.rows[0].default_version} available (\`pantheon migrate\` installs it)`);
  } catch (err) {
    return fail(`pgvector: could not ask the database (${(err as Error).message})`);
  }
  return fail('pgvector: not installed in this PostgreSQL, so the shared memory is unavailable; fix: install it (apt-get install postgresql-<version>-pgvector, or the pgvector/pgvector image)');
}

/**
 * Which lock keeps a second process off the embedded database, and its state. A kernel lock is
 * let go when its process ends however it ends; the pid-file fallback is not, so it is a warning.
 */
function lockFact(lockPath: string, state: string): Fact {
  const lock = dataDirLockKind();
  if (lock.kind === 'kernel') return ok(`data dir lock: kernel lock (${lock.call}) on ${lockPath}, ${state}`);
  return warn(`data dir lock: pid file ${lockPath}, ${state} (no kernel lock on this machine: ${lock.reason ?? 'unknown'}; after an unclean stop on another host, delete the file to start)`);
}
