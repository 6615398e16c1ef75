import type pg from 'pg';
import type { FastifyInstance } from 'fastify';
import type { LoadedConfig } from '../core/config/index.js';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import type { JobQueue } from '../core/queue/types.js';
import type { AuditLog } from '../core/audit/index.js';
import type { ChannelAdapter, IngressSink } from '../core/chat/types.js';
import type { Outbox } from '../orchestrator/outbox.js';
import type { WorkLedger } from '../ledger/index.js';
import type { Approvers } from '../orchestrator/approvals/approvers.js';
import type { ChatCommands } from '../orchestrator/commands.js';
import type { PersonaRegistry } from '../personas/registry.js';
import type { ToolGroupFactory } from '../tools/types.js';

/**
 * What a module (a chat platform, GitHub, infra) gets from the composition root. Everything is
 * already built from the config; a module adds adapters, routes, tool groups and commands.
 */
export interface ModuleContext {
  loaded: LoadedConfig;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  metrics: Metrics;
  pool: pg.Pool;
  queue: JobQueue;
  /** Everything the team says goes out here (modules register their adapters on it). */
  outbox: Outbox;
  /** Hand an inbound envelope to the durable ingress; answers fast. */
  ingress: IngressSink;
  registry: PersonaRegistry;
  approvers: Approvers;
  ledger: WorkLedger;
  audit: AuditLog;
  commands: ChatCommands;
  /** 'all': serves HTTP and platforms' inbound; 'worker': only runs queue jobs. */
  role: 'all' | 'worker';
  /** false when `--no-workers`: jobs are left to `pantheon worker` processes. */
  workers: boolean;
  /** Absolute data directory (workspaces, keys...). */
  dataDir: string;
}

export interface PantheonModule {
  name: string;
  /** Outbound adapters; registered on the outbox in every process (workers post too). */
  adapters?: ChannelAdapter[];
  /** Tool groups by name (`github`, `workspace`, `infra`). */
  toolGroups?: Record<string, ToolGroupFactory>;
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
