import { Command, CommanderError } from 'commander';
import { userInfo } from 'node:os';
import { applySecretFiles, ConfigError } from '../core/config/index.js';
import { DataDirAccessError } from '../core/private-data-dir.js';
// Registers the platforms (their config sections, no SDK) before any command reads the configuration.
import './platforms.js';

/** Exit codes of PRODUCT.md: 0 clean stop, 2 configuration error, 1 anything else. */
const EXIT_CONFIG = 2;

interface CommonOptions {
  config?: string;
  dataDir?: string;
  port?: string;
  host?: string;
  /** commander's --no-workers */
  workers?: boolean;
}

function fail(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`pantheon: configuration error: ${err.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  const dataDir = err instanceof DataDirAccessError ? err : (err as Error)?.cause;
  if (dataDir instanceof DataDirAccessError) {
    process.stderr.write(`pantheon: ${dataDir.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`pantheon: ${describeFailure(err)}\n`);
  process.exit(1);
}

/** Errors that are a bug in Pantheon rather than something the user can fix: their stack helps us. */
const BUGS = [TypeError, ReferenceError, RangeError, SyntaxError];

/**
 * What the user reads when a command fails: the message alone (it says what to fix), or the
 * stack for a programming error, or always with PANTHEON_DEBUG=1.
 */
function describeFailure(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (process.env.PANTHEON_DEBUG === '1' || BUGS.some((type) => err instanceof type) || !err.message) return err.stack ?? err.message;
  return err.message;
}

function portOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    fail(new ConfigError('--port', 'port', `expected a port number 0-65535, got "${value}"`));
  }
  return n;
}

/** Runs until SIGINT/SIGTERM, then stops cleanly and exits 0. */
async function serve(role: 'all' | 'worker', opts: CommonOptions): Promise<void> {
  const { startPantheon } = await import('./app.js');
  const app = await startPantheon({ role, configPath: opts.config, dataDir: opts.dataDir, port: portOf(opts.port), host: opts.host, workers: opts.workers });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'stopping');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await app.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

export async function main(argv: string[]): Promise<void> {
  // Whatever Pantheon writes (the data dir, workspaces, exports) is readable by its user alone.
  process.umask(0o077);
  const program = new Command().name('pantheon').description('A team of AI personas in your chat and on GitHub.').exitOverride().showHelpAfterError();

  const common = (cmd: Command) =>
    cmd
      .option('-c, --config <path>', 'pantheon.yaml to use (default: ./pantheon.yaml or $PANTHEON_CONFIG)')
      .option('-d, --data-dir <dir>', 'where the embedded database lives (default: .pantheon)')
      .option('-p, --port <port>', 'HTTP port (default: $PORT or 3000)');

  common(program.command('start').description('run the team: HTTP API, local chat, workers'))
    .option('--host <address>', 'address to listen on (default: server.host, else 127.0.0.1)')
    .option('--no-workers', 'take messages in but leave the jobs to `pantheon worker` processes (needs REDIS_URL)')
    .action((opts: CommonOptions) => serve('all', opts));

  common(program.command('worker').description('run extra job workers (needs REDIS_URL and DATABASE_URL)')).action((opts: CommonOptions) => serve('worker', opts));

  common(program.command('migrate').description('apply database migrations and exit')).action(async (opts: CommonOptions) => {
    const { runMigrations } = await import('./migrate.js');
    await runMigrations({ configPath: opts.config, dataDir: opts.dataDir });
  });

  common(program.command('chat').description('chat with the team in the terminal'))
    .option('-u, --url <url>', 'a running server (default: $PANTHEON_URL, else http://127.0.0.1:$PORT if it answers, else start one in this process)')
    .option('--conversation <name>', 'conversation to join', 'terminal')
    .option('--user <name>', 'who you are', userInfo().username || 'you')
    .option('--once <text>', 'send one message, print the answer, exit')
    .action(async (opts: CommonOptions & { url?: string; conversation: string; user: string; once?: string }) => {
      const { chatCommand } = await import('./chat-command.js');
      await chatCommand(opts);
    });

  const readOptions = (cmd: Command) =>
    common(cmd)
      .option('-u, --url <url>', 'a running server (default: $PANTHEON_URL, else http://127.0.0.1:$PORT if it answers, else the database directly)')
      .option('--json', 'one JSON object per line');

  readOptions(program.command('audit').description('show the audit log: tool calls and approval decisions, newest first'))
    .option('--persona <id>', 'only this persona')
    .option('--tool <name>', 'only this tool')
    .option('--thread <id>', 'only this thread, e.g. local:general')
    .option('--kind <kind>', 'tool_call or approval_decision')
    .option('--outcome <outcome>', 'e.g. ok, error, refused_by_policy, approved, denied_by_human')
    .option('--since <when>', 'ISO time, or a duration back from now: 30m, 2h, 7d')
    .option('-n, --limit <n>', 'at most this many entries (default 100, at most 1000)')
    .action(async (opts: import('./audit.js').AuditCommandOptions) => {
      const { auditCommand } = await import('./audit.js');
      await auditCommand(opts);
    });

  common(program.command('mcp').description('the team as an MCP server on stdin/stdout (for Claude Desktop, Claude Code, Cursor), relayed to a running server'))
    .option('-u, --url <url>', 'the running server (default: $PANTHEON_URL, else the one recorded in the data dir, else http://127.0.0.1:$PORT)')
    .action(async (opts: import('./audit.js').ReadSourceOptions) => {
      const { mcpStdioCommand } = await import('./mcp/stdio.js');
      await mcpStdioCommand(opts);
    });

  readOptions(program.command('doctor').description('check the installation: config, data dir, database, sandbox, workspaces, models (exit 1 when something is wrong)'))
    .option('--no-model-check', 'do not send the models the short conformance check (a few small requests each)')
    .action(async (opts: import('./doctor.js').DoctorCommandOptions) => {
      const { doctorCommand } = await import('./doctor.js');
      process.exitCode = await doctorCommand(opts);
    });

  readOptions(program.command('work').description('show the work ledger: what is in flight, or one item and its history'))
    .argument('[id]', 'a work item (W-12, #12 or 12)')
    .option('--owner <persona>', 'only work this persona owns')
    .option('--thread <id>', 'only work asked for in this thread')
    .option('-a, --all', 'include done and merged work')
    .option('--days <n>', 'model usage of this many days, today included (default 1)')
    .action(async (id: string | undefined, opts: import('./work.js').WorkCommandOptions) => {
      const { workCommand } = await import('./work.js');
      await workCommand({ ...opts, id });
    });

  common(program.command('prune').description('remove what retention allows (superseded checkpoints, old audit entries, transcripts, job logs, workspaces); --dry-run only counts'))
    .option('-u, --url <url>', 'a running server (default: $PANTHEON_URL, else http://127.0.0.1:$PORT if it answers, else the database directly)')
    .option('--dry-run', 'show what would be removed (rows and bytes per kind), remove nothing')
    .action(async (opts: import('./audit.js').ReadSourceOptions & { dryRun?: boolean }) => {
      const { pruneCommand } = await import('./prune.js');
      await pruneCommand(opts);
    });

  const memory = program.command('memory').description("the team's shared memory: search, list, show, forget, stats, reembed, export, import");
  const runMemory = async (sub: import('./memory.js').MemorySubcommand, args: string[], opts: import('./memory.js').MemoryCommandOptions) => {
    const { memoryCommand } = await import('./memory.js');
    await memoryCommand(sub, args, opts);
  };
  const memoryFilters = (cmd: Command) =>
    cmd
      .option('--scope <scope>', 'only this scope: team, persona:<id>, conversation:<thread>, repo:<owner>/<repo> (commas for several)')
      .option('--kind <kind>', 'only this kind: fact, decision, preference, summary, code_context, runbook (commas for several)');
  memoryFilters(readOptions(memory.command('search').description('search the memory by meaning and words, best first')))
    .argument('<query...>', 'what to look for')
    .option('-n, --limit <n>', 'at most this many (default 20)')
    .action((query: string[], opts: import('./memory.js').MemoryCommandOptions) => runMemory('search', query, opts));
  memoryFilters(readOptions(memory.command('list').description('list memories, newest first')))
    .option('-n, --limit <n>', 'at most this many (default 100)')
    .option('--archived', 'include archived memories')
    .action((opts: import('./memory.js').MemoryCommandOptions) => runMemory('list', [], opts));
  readOptions(memory.command('show').description('show one memory'))
    .argument('<id>', 'a memory id, as search and list show it')
    .action((id: string, opts: import('./memory.js').MemoryCommandOptions) => runMemory('show', [id], opts));
  readOptions(memory.command('forget').description('delete a memory for good, from every search'))
    .argument('<id>', 'a memory id')
    .action((id: string, opts: import('./memory.js').MemoryCommandOptions) => runMemory('forget', [id], opts));
  readOptions(memory.command('stats').description('the embedder, and how many memories by scope and kind')).action((opts: import('./memory.js').MemoryCommandOptions) => runMemory('stats', [], opts));
  readOptions(memory.command('reembed').description('re-embed every memory with the configured embedder (after changing it)')).action((opts: import('./memory.js').MemoryCommandOptions) =>
    runMemory('reembed', [], opts),
  );
  readOptions(memory.command('export').description('write every memory as JSON lines'))
    .option('-o, --out <file>', 'write to this file instead of stdout')
    .action((opts: import('./memory.js').MemoryCommandOptions) => runMemory('export', [], opts));
  readOptions(memory.command('import').description('import JSON lines written by `pantheon memory export`'))
    .argument('<file>', 'the JSONL file')
    .action((file: string, opts: import('./memory.js').MemoryCommandOptions) => runMemory('import', [file], opts));

  common(program.command('check').description('validate the configuration and the persona files, without the network (exit 0, or 2 naming the file and field)')).action(async (opts: CommonOptions) => {
    const { checkCommand } = await import('./check.js');
    await checkCommand({ config: opts.config, dataDir: opts.dataDir });
  });

  common(program.command('backup').description('write a consistent copy of the embedded database to a file (the server must be stopped; Postgres: pg_dump)'))
    .argument('<file>', 'the backup to write')
    .action(async (file: string, opts: CommonOptions) => {
      const { backupCommand } = await import('./backup.js');
      await backupCommand(file, { config: opts.config, dataDir: opts.dataDir });
    });

  common(program.command('restore').description('restore a `pantheon backup` into a data dir without a database'))
    .argument('<file>', 'the backup to read')
    .option('--force', 'replace the database already in the data dir')
    .action(async (file: string, opts: CommonOptions & { force?: boolean }) => {
      const { restoreCommand } = await import('./backup.js');
      await restoreCommand(file, { config: opts.config, dataDir: opts.dataDir, force: opts.force });
    });

  common(program.command('token').description('print the API token (`curl -H "authorization: Bearer $(npx pantheon token)" ...`)')).action(async (opts: CommonOptions) => {
    const { tokenCommand } = await import('./token.js');
    await tokenCommand({ config: opts.config, dataDir: opts.dataDir });
  });

  readOptions(program.command('schedules').description('list the schedules with their next run and last result; `schedules run <name>` runs one now'))
    .argument('[action]', 'run')
    .argument('[name]', 'the schedule to run')
    .action(async (action: string | undefined, name: string | undefined, opts: import('./schedules.js').SchedulesCommandOptions) => {
      const { schedulesCommand } = await import('./schedules.js');
      await schedulesCommand(action, name, opts);
    });

  common(program.command('login-link').description('print a one-time sign-in URL for the web console (uses a running server when there is one)'))
    .argument('<human-id>', 'the id of a human of humans: in pantheon.yaml')
    .option('-u, --url <url>', 'a running server (default: $PANTHEON_URL, else the server of the data dir, else the database directly)')
    .action(async (humanId: string, opts: import('./audit.js').ReadSourceOptions) => {
      const { loginLinkCommand } = await import('./login-link.js');
      await loginLinkCommand(humanId, opts);
    });

  readOptions(program.command('pairing').description('Telegram chats beyond the allowlist: list requests, approve a code, revoke a chat'))
    .argument('<action>', 'list | approve <code> | revoke <chat id>')
    .argument('[value]', 'the pairing code (approve) or the chat id (revoke)')
    .action(async (action: string, value: string | undefined, opts: import('./pairing.js').PairingCommandOptions) => {
      const { pairingCommand } = await import('./pairing.js');
      await pairingCommand(action, value, opts);
    });

  try {
    // Secrets mounted as files (FOO_FILE=/run/secrets/foo) become FOO before anything reads them.
    applySecretFiles(process.env);
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exit(err.exitCode === 0 ? 0 : EXIT_CONFIG);
    }
    fail(err);
  }
}
