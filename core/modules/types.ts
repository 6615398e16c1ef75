import type pg from 'pg';
import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../audit/index.js';
import type { HumanDirectory } from '../chat/approvals.js';
import type { ChatCommandRegistry } from '../chat/commands.js';
import type { OutboxPort } from '../chat/outbox.js';
import type { PlatformAdapter, IngressSink } from '../chat/types.js';
import type { LoadedConfig } from '../config/load.js';
import type { Leases } from '../leases/index.js';
import type { Persona } from '../config/persona-schema.js';
import type { PlatformDescriptor } from '../config/platforms.js';
import type { Logger } from '../log.js';
import type { NotifierPort } from '../chat/notices.js';
import type { ScheduleConfig } from '../config/schedules.js';
import type { Metrics } from '../metrics.js';
import type { JobQueue } from '../queue/types.js';
import type { LiveToolGroup, ToolGroupFactory } from '../tools/types.js';

/**
 * The module contract. Every optional part of Pantheon (a chat platform, GitHub, infra) is a
 * module: a factory that receives the `ModuleContext` (ports, never the composition root's
 * classes) and answers what it adds (adapters, routes, tool groups, chat commands) or null when
 * its part of the configuration is absent. cli/ builds the context and starts the modules in the
 * order of its module list (cli/module-list.ts).
 */

/** The team, by persona id (personas/registry.ts implements it). */
interface PersonaDirectory {
  get(id: string): Persona | undefined;
  list(): Persona[];
}

/** What a module gets from the composition root; everything is already built from the config. */
export interface ModuleContext {
  loaded: LoadedConfig;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  metrics: Metrics;
  /** The database: a module keeps its own tables and builds what it needs on them (the work ledger: `new WorkLedger(pool)`). */
  pool: pg.Pool;
  queue: JobQueue;
  /** Everything the team says goes out here; the module's own adapters are registered on it from `adapters`. */
  outbox: OutboxPort;
  /** Hand an inbound envelope to the durable ingress; answers fast. */
  ingress: IngressSink;
  registry: PersonaDirectory;
  /** Who people are (`humans:`) and who may approve. */
  approvers: HumanDirectory;
  audit: AuditLog;
  /** The one registry of chat commands: a module registers its own (`/cancel`) and may read the rest (Telegram's menu). */
  commands: ChatCommandRegistry;
  /**
   * One owner across replicas for each connection that must be single (a bot's socket or poller,
   * GitHub polling): `leases.hold(name, { start, stop })` in `start({ inbound })` instead of
   * connecting directly. In the embedded database's single process it starts at once.
   */
  leases: Leases;
  /** 'all': serves HTTP and platforms' inbound; 'worker': only runs queue jobs. */
  role: 'all' | 'worker';
  /** false when `--no-workers`: jobs are left to `pantheon worker` processes. */
  workers: boolean;
  /** Absolute data directory (workspaces, keys...). */
  dataDir: string;
  /** Reaches people outside their threads (failed jobs, finished work), honouring their `humans[].notify`. */
  notifier: NotifierPort;
}

/** How a scheduled run went. */
export interface ScheduledOutcome {
  ok: boolean;
  /** One line: what `pantheon schedules` shows as the run's result, and a failure's notice says. */
  detail: string;
  /** The work posted its own report (a check's incident), so the scheduler posts nothing in the thread. */
  reported?: boolean;
  /**
   * What the run did, for the schedule's thread (a runbook's steps). The scheduler posts it after
   * every run that went well, and after a failure only when it is reported (the first failure).
   */
  report?: string;
}

/**
 * What a module does for the `schedules:` entries of its kinds (the infra module: `check`,
 * `runbook`). `occurrence` is the time the run is for (the cron's instant, or the time asked for a
 * run now): the same when a run is tried again, so what it posts can be keyed by it.
 */
export interface ScheduledWork {
  check?(schedule: ScheduleConfig, occurrence: Date): Promise<ScheduledOutcome>;
  runbook?(schedule: ScheduleConfig, occurrence: Date): Promise<ScheduledOutcome>;
}

export interface PantheonModule {
  name: string;
  /** Outbound adapters; registered on the outbox in every process (workers post too). */
  adapters?: PlatformAdapter[];
  /** Tool groups by name (`github`, `workspace`, `infra`). */
  toolGroups?: Record<string, ToolGroupFactory>;
  /** Scheduled work of the kinds this module runs (orchestrator/schedules/ calls it). */
  scheduled?: ScheduledWork;
  /** Tool groups whose tools are known only at run time (`mcp:<server>`), by group name. */
  liveToolGroups?: Record<string, LiveToolGroup>;
  /** Webhook and API routes, registered before the server listens (role 'all' only). */
  routes?(http: FastifyInstance): void;
  /**
   * Called once the team is ready. `inbound`: connect to the platform and take messages in
   * (role 'all'); `workers`: this process runs queue jobs (register queue processors here).
   */
  start?(opts: { inbound: boolean; workers: boolean }): Promise<void>;
  stop?(): Promise<void>;
}

/** Builds a module from the context, or null when its part of the config is absent. */
export type ModuleFactory = (ctx: ModuleContext) => Promise<PantheonModule | null> | PantheonModule | null;

/**
 * A platform in the module list: its descriptor (config sections, defaults; no SDK), and its
 * module, whose code is loaded only when `enabled` says its part of the configuration is there:
 * an installation pays start-up time and memory only for the platforms it uses.
 */
export interface PlatformModule {
  platform: PlatformDescriptor;
  /** Whether the module is worth loading; its factory still decides, and says why when it stays off. */
  enabled(loaded: LoadedConfig): boolean;
  /** The module's factory (a dynamic import, so the platform's SDK loads only here). */
  load(): Promise<ModuleFactory>;
  /** Part of every `pantheon start` (the local chat): started even where a caller chooses the other modules. */
  alwaysOn?: boolean;
}
