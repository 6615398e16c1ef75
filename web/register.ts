import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { LoadedConfig } from '../core/config/index.js';
import type { Human, HumanDirectory } from '../core/chat/approvals.js';
import type { IngressSink } from '../core/chat/types.js';
import type { Metrics } from '../core/metrics.js';
import type { ConsoleDecision } from '../orchestrator/approvals/desk.js';
import type { ListedApproval } from '../orchestrator/approvals/store.js';
import type { ChatStore } from '../platforms/local/store.js';
import { registerApprovalRoutes } from './approval-routes.js';
import { registerAuthRoutes } from './auth-routes.js';
import { registerConversationRoutes } from './conversation-routes.js';
import type { ConsoleSessions } from './sessions.js';
import { registerSettingsRoutes, type DoctorResult } from './settings-routes.js';
import { registerStatsRoutes, type QueueDepthSamples } from './stats-routes.js';
import { defaultConsoleDir, registerConsolePages } from './static-console.js';
import { registerTeamRoutes } from './team-routes.js';
import { resultsFromTranscript } from './timeline.js';

export interface WebConsoleOptions {
  loaded: LoadedConfig;
  env: NodeJS.ProcessEnv;
  pool: pg.Pool;
  sessions: ConsoleSessions;
  baseUrl: () => string;
  /** The local chat: posting into a conversation as the signed-in human. */
  chat: { store: ChatStore; ingress: IngressSink; metrics?: Pick<Metrics, 'inboundFailures'> };
  approvals: {
    list(q: { pending: boolean; limit: number }): Promise<ListedApproval[]>;
    version(): Promise<{ version: string; pending: number }>;
    decide(command: { action: 'approve' | 'deny'; id: string; note?: string }, human: Human | undefined): Promise<ConsoleDecision>;
  };
  humans: Pick<HumanDirectory, 'identify'>;
  /** A thread's transcript (its archived tool results, then the latest checkpoint's messages), for tool results. */
  transcript: (thread: string, callIds: readonly string[]) => Promise<unknown[] | undefined>;
  depth: QueueDepthSamples;
  doctor: () => Promise<DoctorResult>;
  /** The built console; default dist/console of the package. */
  consoleDir?: string;
}

/** Every route of the console: sign-in, the views' API, and the pages (registered last: they answer every other GET). */
export function registerWebConsole(http: FastifyInstance, opts: WebConsoleOptions): void {
  const { config } = opts.loaded;
  const { limits } = config.server;
  registerAuthRoutes(http, { sessions: opts.sessions, baseUrl: opts.baseUrl, secureCookie: config.console.publicUrl?.startsWith('https:') ?? false });
  registerTeamRoutes(http, { pool: opts.pool, loaded: opts.loaded, env: opts.env });
  registerConversationRoutes(http, {
    pool: opts.pool,
    ...opts.chat,
    results: resultsFromTranscript(opts.transcript),
    sessions: opts.sessions,
    maxStreamsPerCredential: limits.streamsPerCredential,
    maxStreams: limits.streamsTotal,
  });
  registerApprovalRoutes(http, {
    ...opts.approvals,
    humans: opts.humans,
    human: (id) => opts.sessions.human(id),
    sessions: opts.sessions,
    maxStreamsPerCredential: limits.streamsPerCredential,
    maxStreams: limits.streamsTotal,
  });
  registerStatsRoutes(http, { pool: opts.pool, depth: opts.depth });
  registerSettingsRoutes(http, { loaded: opts.loaded, doctor: opts.doctor });
  registerConsolePages(http, { dir: opts.consoleDir ?? defaultConsoleDir() });
}
