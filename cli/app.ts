import { PgCheckpointSaver } from '../orchestrator/checkpoint/pg-saver.js';
import type { FastifyInstance } from 'fastify';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { createLogger, registerEnvSecrets, registerSecret, type Logger } from '../core/log.js';
import { createMetrics, type Metrics } from '../core/metrics.js';
import { ConfigError, loadConfig, type LoadedConfig } from '../core/config/index.js';
import { createDatabase, type Database } from '../core/db/index.js';
import { migrate, migrationsCurrent } from '../core/db/migrate.js';
import { createLeases } from '../core/leases/index.js';
import { readiness } from '../core/http/readiness.js';
import { secureDataDir } from '../core/private-data-dir.js';
import { liveServerRecord, removeServerRecord, writeServerRecord } from '../core/server-record.js';
import { createQueue, watchQueueDepth, type JobQueue } from '../core/queue/index.js';
import { createHttpServer, ensureConsoleToken, listen } from '../core/http/index.js';
import type { ChatStore } from '../platforms/local/store.js';
import { isLocalChatModule } from '../platforms/local/module.js';
import type { Persona } from '../core/config/persona-schema.js';
import { Ingress, INGRESS_QUEUE, type IngressJob } from '../orchestrator/ingress.js';
import { Outbox, OUTBOX_QUEUE } from '../orchestrator/outbox.js';
import { archivedToolResults } from '../orchestrator/graph/trim.js';
import { registerConsoleRoutes } from '../ledger/index.js';
import { handleIngressJob } from '../orchestrator/turn.js';
import { checkModels } from './check-models.js';
import { composeTeam } from './compose-team.js';
import { registerMemoryRoutes } from '../memory/routes.js';
import { IdleConversationWatcher } from '../memory/summaries.js';
import { PersonaRegistry } from '../personas/registry.js';
import { Approvers } from '../orchestrator/approvals/approvers.js';
import { WorkLedger } from '../ledger/index.js';
import { AuditLog } from '../core/audit/index.js';
import { ChatCommands } from '../orchestrator/commands.js';
import type { LiveToolGroup, ToolGroupFactory } from '../tools/types.js';
import type { ModuleContext, ModuleFactory, PantheonModule } from '../core/modules/types.js';
import { BUILT_IN_MODULES, MODULES } from './module-list.js';
import { startWorkspaceCleanup } from '../tools/workspace/cleanup.js';
import { registerPruneRoutes, holdPeriodicPrune } from './prune.js';
import { registerMcpRoute } from './mcp/http-route.js';
import { inProcessTeamPort } from './mcp/team-port.js';
import { ledgerWorkItems } from '../tools/workspace/retention.js';
import { clockFromEnv, type Clock } from '../core/clock/index.js';
import { Notifier } from '../orchestrator/notify/notifier.js';
import { mentionNotices } from '../orchestrator/notify/mentions.js';
import { registerScheduleRoutes, Scheduler, ScheduleStore } from '../orchestrator/schedules/index.js';
import type { ScheduledWork } from '../core/modules/types.js';
import { ConsoleSessions, loginCommand, QueueDepthSamples, registerWebConsole } from '../web/index.js';
import { serverDoctor } from './doctor.js';

export interface StartOptions {
  configPath?: string;
  dataDir?: string;
  port?: number;
  host?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** 'all' serves HTTP and runs workers; 'worker' only runs queue workers (needs Redis and Postgres). */
  role?: 'all' | 'worker';
  /** false: serve HTTP and take messages in, but leave the jobs to `pantheon worker` processes (needs Redis). */
  workers?: boolean;
  /** LangGraph checkpoint durability of team runs (default 'sync'; see docs/architecture.md). */
  durability?: 'sync' | 'async' | 'exit';
  /** Replaces the built-in module list (tests start only what they test). */
  modules?: ModuleFactory[];
  /** The time schedules, quiet hours and approvals go by (default: $PANTHEON_TEST_CLOCK, else the system's). */
  clock?: Clock;
  /** Replaces the configured models (benchmarks use a zero-latency in-process model). */
  modelFor?: (persona: Pick<Persona, 'id' | 'model' | 'fallbackModels'>) => BaseChatModel;
}

export interface Pantheon {
  loaded: LoadedConfig;
  logger: Logger;
  metrics: Metrics;
  db: Database;
  queue: JobQueue;
  http?: FastifyInstance;
  url?: string;
  /** The API token the HTTP server requires: `console.token`, else the one generated in the data dir. */
  consoleToken?: string;
  ingress: Ingress;
  store: ChatStore;
  team: ReturnType<typeof composeTeam>;
  checkpointer: PgCheckpointSaver;
  stop(): Promise<void>;
}

const MB = 1024 * 1024;

/** Secrets from the config and personas are registered with the logger so they never reach a log line. */
function registerConfigSecrets(loaded: LoadedConfig, env: NodeJS.ProcessEnv): void {
  registerEnvSecrets(env);
  const walk = (value: unknown, key = ''): void => {
    if (typeof value === 'string') {
      if (/(token|secret|key|password)/i.test(key)) registerSecret(value);
    } else if (Array.isArray(value)) for (const v of value) walk(v, key);
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, k);
  };
  walk(loaded.config);
  walk(loaded.personas);
}

/** The composition root: builds every part from the config and starts it. */
export async function startPantheon(opts: StartOptions = {}): Promise<Pantheon> {
  const env = opts.env ?? process.env;
  const role = opts.role ?? 'all';
  const loaded = await loadConfig({ configPath: opts.configPath, cwd: opts.cwd, env, dataDir: opts.dataDir, port: opts.port });
  const { config, personas } = loaded;
  if (role === 'worker' && !config.redis.url) {
    throw new ConfigError(loaded.configFile ?? 'environment', 'redis.url', 'is not set (nor REDIS_URL): workers in their own process share jobs through Redis (BullMQ)');
  }
  if (role === 'worker' && !config.database.url) {
    throw new ConfigError(
      loaded.configFile ?? 'environment',
      'database.url',
      'is not set (nor DATABASE_URL): a worker process needs the same Postgres as `pantheon start` (the embedded database serves one process)',
    );
  }
  if (opts.workers === false && !config.redis.url) {
    throw new ConfigError('environment', 'REDIS_URL', 'is not set: --no-workers leaves the jobs to `pantheon worker` processes, which share them through Redis');
  }
  if (!opts.modelFor) checkModels(loaded, env);
  registerConfigSecrets(loaded, env);
  const clock = opts.clock ?? clockFromEnv(env);
  const logger = opts.logger ?? createLogger();
  for (const notice of loaded.notices) logger.info(notice);
  if (clock.controlled) logger.warn({ now: clock.now().toISOString() }, 'the clock is a test clock (PANTHEON_TEST_CLOCK): schedules, quiet hours and approvals go by it');
  const metrics = createMetrics();
  let ready = false;
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) {
      try {
        await fn();
      } catch (err) {
        logger.warn({ err }, 'error while stopping');
      }
    }
  };

  // The data dir is made private before anything opens it: by startEmbeddedPostgres for the
  // embedded database (every command that opens it goes through there), here when the database
  // is a Postgres and the data dir holds the workspaces.
  if (config.database.url) secureDataDir(config.dataDir, logger);

  try {
    const db = await createDatabase({ url: config.database.url, dataDir: config.dataDir, sharedBuffers: config.database.sharedBuffers, logger });
    stops.push(() => db.close());
    await migrate(db.pool, { logger });
    const checkpointer = new PgCheckpointSaver(db.pool);
    // Connections that must be single across replicas are held under leases (core/leases/).
    const leases = createLeases({ pool: db.pool, url: config.database.url, ttlSeconds: config.leases.ttlSeconds, logger });

    const queue = createQueue({ redisUrl: config.redis.url, prefix: config.redis.prefix, logger });
    stops.push(() => queue.close());

    // Console sign-in (web/): one-time login links and sessions, in the database.
    const sessions = new ConsoleSessions(db.pool, config.humans, { linkMinutes: config.console.loginLinkMinutes, sessionHours: config.console.sessionHours });
    let url: string | undefined;
    // Where people reach the console: for login links made here (`/login`) and by the API.
    const baseUrl = () => config.console.publicUrl ?? url ?? liveServerRecord(config.dataDir)?.url ?? `http://127.0.0.1:${config.server.port}`;
    let http: FastifyInstance | undefined;
    let consoleToken: string | undefined;
    if (role === 'all') {
      // There is always a token: without PANTHEON_CONSOLE_TOKEN, one generated in the (private) data dir.
      consoleToken = config.console.token ?? ensureConsoleToken(config.dataDir);
      registerSecret(consoleToken);
      http = createHttpServer({
        logger,
        metrics,
        bodyLimitBytes: config.server.bodyLimitBytes,
        unverifiedBodyBudgetBytes: config.server.limits.unverifiedBodyBudgetMb * MB,
        consoleToken,
        sessions,
        allowedHosts: config.server.allowedHosts,
        ready: () => ready,
        healthDetails: () => ({ personas: personas.length, queue: queue?.kind, database: db?.kind }),
        readiness: readiness(
          {
            database: async () => (await db.pool.query('SELECT 1')).rowCount === 1,
            migrations: migrationsCurrent(db.pool),
            ...(queue.kind === 'bullmq' ? { redis: async () => !!(await queue.counts(INGRESS_QUEUE)) } : {}),
            // Every connection this replica owns is up (and its leases are being renewed).
            connections: () => leases.healthy() && leases.owned().every((c) => c.up),
          },
          { onFailure: (check, err) => logger.warn({ check, err: (err as Error | undefined)?.message }, 'readiness check failing') },
        ),
      });
      stops.push(() => http!.close());
    }

    const outbox = new Outbox({ pool: db.pool, queue, logger, rateLimits: config.outbox.rateLimits });
    const ingress = new Ingress({ pool: db.pool, queue, metrics, logger });
    const approvers = new Approvers(config.humans);
    // The one way to reach a person outside their thread: approvals, failures, finished work, mentions.
    const notifier = new Notifier({ pool: db.pool, outbox, humans: config.humans, approvers, clock, logger: logger.child({ component: 'notifier' }) });
    outbox.onPosted(mentionNotices({ notifier, humans: config.humans }));
    const shared = {
      registry: new PersonaRegistry(personas),
      approvers,
      ledger: new WorkLedger(db.pool),
      audit: new AuditLog(db.pool),
      commands: new ChatCommands(),
    };
    shared.commands.register(
      loginCommand({
        sessions,
        humans: shared.approvers,
        addressOn: (platform, human) => shared.approvers.addressOn(platform, human),
        outbox,
        baseUrl,
        linkMinutes: config.console.loginLinkMinutes,
      }),
    );
    // The local chat, then the optional parts (chat platforms, GitHub, infra): each adds adapters, routes, tools and commands.
    const modules: PantheonModule[] = [];
    const moduleContext: ModuleContext = {
      loaded,
      env,
      logger,
      metrics,
      pool: db.pool,
      queue,
      outbox,
      ingress: ingress.accept,
      registry: shared.registry,
      approvers: shared.approvers,
      audit: shared.audit,
      commands: shared.commands,
      role,
      workers: opts.workers !== false,
      dataDir: config.dataDir,
      leases,
      notifier,
    };
    for (const factory of [...BUILT_IN_MODULES, ...(opts.modules ?? MODULES)]) {
      const mod = await factory(moduleContext);
      if (!mod) continue;
      modules.push(mod);
      for (const adapter of mod.adapters ?? []) outbox.register(adapter);
      stops.push(async () => {
        await mod.stop?.();
      });
    }
    const store = modules.find(isLocalChatModule)!.store;
    const groups = Object.assign({}, ...modules.map((m) => m.toolGroups ?? {})) as Record<string, ToolGroupFactory>;
    const liveGroups = Object.assign({}, ...modules.map((m) => m.liveToolGroups ?? {})) as Record<string, LiveToolGroup>;
    const team = composeTeam({
      loaded,
      pool: db.pool,
      queue,
      checkpointer,
      outbox,
      metrics,
      logger,
      env,
      durability: opts.durability ?? 'sync',
      modelFor: opts.modelFor,
      groups,
      clock,
      notifier,
      liveGroups,
      ...shared,
    });
    const work: ScheduledWork = Object.assign({}, ...modules.map((m) => m.scheduled ?? {}));
    const scheduler = new Scheduler({
      schedules: config.schedules,
      store: new ScheduleStore(db.pool),
      ingress: ingress.accept,
      outbox,
      notifier,
      work,
      clock,
      logger: logger.child({ component: 'schedules' }),
      replica: leases.owner,
    });

    stops.push(() => team.memory.flush()); // pending use marks, before the database closes
    // Memory needs pgvector: without it Pantheon runs, and memory says why it is unavailable.
    await team.memory.init().catch((err) => logger.warn({ err: (err as Error).message }, 'shared memory is unavailable'));

    if (opts.workers !== false) {
      await queue.process<IngressJob, void>(INGRESS_QUEUE, (job) => handleIngressJob(team.turnDeps, job.data), { concurrency: 16 });
      await outbox.startWorker(8);
      // Approvals nobody answered in time expire; their paused runs carry on without the tool.
      const soonest = Math.min(config.policy.approvalTtlMinutes, config.policy.escalation?.afterMinutes ?? Infinity);
      const sweepMs = Math.min(15_000, Math.max(1000, (soonest * 60_000) / 4));
      const sweep = setInterval(() => void team.desk.sweep().catch((err) => logger.warn({ err }, 'approval sweep failed')), sweepMs);
      sweep.unref();
      stops.push(async () => clearInterval(sweep));
      // What was held during someone's quiet hours goes out as one digest once they are over.
      // Nothing is held unless someone has quiet hours: then no look at the table either.
      if (config.humans.some((h) => h.notify?.quietHours)) {
        const digests = setInterval(() => void notifier.deliverDigests().catch((err) => logger.warn({ err }, 'digest delivery failed')), 2000);
        digests.unref();
        stops.push(async () => clearInterval(digests));
      }
    }
    if (role === 'all' && opts.workers !== false) {
      // Idle conversations are summarised into memory; unused memories are archived.
      // One replica at a time, so a conversation is not summarised twice.
      const watcher = new IdleConversationWatcher({
        pool: db.pool,
        store: team.memory,
        model: team.summarizer,
        budgetSpent: team.summarizerBudget,
        idleMinutes: config.memory.summarizeAfterIdleMinutes,
        logger,
      });
      let care: NodeJS.Timeout | undefined;
      let pass: Promise<unknown> = Promise.resolve();
      leases.hold('memory:summaries', {
        start: async () => {
          care = setInterval(
            () => {
              pass = Promise.all([
                watcher.tick().catch((err) => logger.warn({ err }, 'memory summaries failed')),
                team.memory
                  .archiveUnused(config.memory.archiveAfterDays)
                  .then(() => team.memory.deleteExpired())
                  .catch(() => {}),
              ]);
            },
            Math.min(60_000, Math.max(1000, (config.memory.summarizeAfterIdleMinutes * 60_000) / 2)),
          );
          care.unref();
        },
        stop: async () => {
          clearInterval(care);
          await pass;
        },
      });
    }
    const unwatch = watchQueueDepth(queue, [INGRESS_QUEUE, OUTBOX_QUEUE], metrics.queueDepth, 5000);
    stops.push(async () => unwatch());

    if (http) {
      const { limits } = config.server;
      registerConsoleRoutes(http, { audit: team.audit, ledger: team.ledger, pool: db.pool, githubWebUrl: githubWebUrl(config.github.apiUrl) });
      registerPruneRoutes(http, {
        pool: db.pool,
        retention: config.retention,
        dataDir: config.dataDir,
        workspacesRetentionDays: config.workspaces.retentionDays,
        logger: logger.child({ component: 'retention' }),
      });
      registerMemoryRoutes(http, { store: team.memory, importLimitBytes: limits.memoryImportMb * MB });
      registerScheduleRoutes(http, scheduler);
      // The team as an MCP server (`pantheon mcp` bridges stdio clients to it).
      const teamPort = inProcessTeamPort({
        personas,
        store,
        ingress: ingress.accept,
        ledger: team.ledger,
        approvals: team.approvals,
        pool: db.pool,
        logger: logger.child({ component: 'mcp-server' }),
      });
      registerMcpRoute(http, teamPort);
      for (const mod of modules) mod.routes?.(http);
      const depth = new QueueDepthSamples(queue, [INGRESS_QUEUE, OUTBOX_QUEUE]);
      const stopSampling = depth.start();
      stops.push(async () => stopSampling());
      registerWebConsole(http, {
        loaded,
        env,
        pool: db.pool,
        sessions,
        baseUrl,
        chat: { store, ingress: ingress.accept, metrics },
        approvals: { list: (q) => team.approvals.list(q), version: () => team.approvals.version(), decide: (command, human) => team.desk.decideFromConsole(command, human) },
        humans: shared.approvers,
        transcript: async (thread, callIds) => {
          // The messages that left the thread's state (archived), then the window it still holds.
          const [archived, tuple] = await Promise.all([archivedToolResults(db.pool, thread, callIds), checkpointer.getTuple({ configurable: { thread_id: thread, checkpoint_ns: '' } })]);
          return [...archived, ...((tuple?.checkpoint.channel_values as { messages?: unknown[] } | undefined)?.messages ?? [])];
        },
        depth,
        doctor: () => serverDoctor(loaded, db.pool, db.kind, env),
        consoleDir: env.PANTHEON_CONSOLE_DIR,
      });
      const pruneSessions = setInterval(() => void sessions.prune().catch((err) => logger.warn({ err }, 'pruning console sessions failed')), 3_600_000);
      pruneSessions.unref();
      stops.push(async () => clearInterval(pruneSessions));
      const host = opts.host ?? config.server.host ?? '127.0.0.1';
      ({ url } = await listen(http, { host, port: config.server.port }));
    }
    await ingress.recover();
    // A message recorded but not queued (its enqueue failed) is queued by the next sweep.
    if (opts.workers !== false) {
      ingress.startSweep();
      stops.push(async () => ingress.stopSweep());
    }
    await outbox.recover();
    if (opts.workers !== false) await team.desk.sweep();
    for (const mod of modules) await mod.start?.({ inbound: role === 'all', workers: opts.workers !== false });
    // Schedules tick in one replica at a time; each occurrence is also claimed by a row, so it runs once.
    if (role === 'all' && config.schedules.length) leases.hold('schedules', { start: () => scheduler.start(), stop: () => scheduler.stop() });
    // A replica that ran a schedule now (`pantheon schedules run`) waits for its persona turn's end without the lease.
    stops.push(() => scheduler.stop());
    // Workspaces are on this process's own disk: removed `workspaces.retentionDays` after their work ends.
    const cleanup = startWorkspaceCleanup({
      dataDir: config.dataDir,
      retentionDays: config.workspaces.retentionDays,
      lookup: ledgerWorkItems(shared.ledger),
      logger: logger.child({ component: 'workspaces' }),
    });
    stops.push(() => cleanup.stop());
    // The operator commands find this server through its data dir (they cannot open its database).
    if (url) {
      writeServerRecord(config.dataDir, url);
      stops.push(async () => removeServerRecord(config.dataDir));
    }
    // Retention of the database's records (retention: in pantheon.yaml): one replica at a time, the retention lease's owner.
    if (opts.workers !== false) holdPeriodicPrune(leases, { pool: db.pool, retention: config.retention, metrics, logger: logger.child({ component: 'retention' }) });
    // First at shutdown: owned connections stop and their leases are given up, so another replica takes them at once.
    stops.push(() => leases.close());
    ready = true;
    logger.info(
      { url, personas: personas.map((p) => p.id), database: db.kind, queue: queue.kind, leases: leases.kind, owner: leases.owner, config: loaded.configFile ?? '(built-in defaults)' },
      'pantheon is ready',
    );
    return { loaded, logger, metrics, db, queue, http, url, consoleToken, ingress, store, team, checkpointer, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** GitHub's web address for its API address: api.github.com is github.com; an Enterprise `/api/v3` root is its host. */
function githubWebUrl(apiUrl: string): string {
  const u = new URL(apiUrl);
  if (u.hostname === 'api.github.com') return 'https://github.com';
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/api\/v3\/?$/, '').replace(/\/+$/, '')}`;
}
