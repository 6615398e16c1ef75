import type pg from 'pg';
import type { BaseCheckpointSaver } from '@langchain/langgraph';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { LoadedConfig } from '../core/config/index.js';
import { AuditLog } from '../core/audit/index.js';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import type { JobQueue } from '../core/queue/types.js';
import { createPersonaModel, PgUsageRecorder, resolveModelChain } from '../agents/index.js';
import { contextKeeper, contextPolicy } from '../orchestrator/context-keepers.js';
import { newContextCommand } from '../orchestrator/new-context.js';
import { PersonaRegistry } from '../personas/registry.js';
import type { Persona } from '../core/config/persona-schema.js';
import { ToolGuard } from '../tools/guard.js';
import { buildPersonaTools } from '../tools/registry.js';
import type { LiveToolGroup, OutboxPort, ToolGroupFactory } from '../tools/types.js';
import { ChatCommands } from '../orchestrator/commands.js';
import { progressMiddleware, type ProgressPort } from '../orchestrator/progress.js';
import { summarizeInFlight } from '../ledger/index.js';
import { ApprovalDesk, ApprovalRequests, ApprovalStore, Approvers, approvalCommands } from '../orchestrator/approvals/index.js';
import { WorkLedger } from '../ledger/index.js';
import { scheduleDrain } from '../orchestrator/ingress.js';
import { pgTeamGuards } from '../orchestrator/team-guards.js';
import { buildTeam } from '../orchestrator/team.js';
import { pgTranscriptArchive } from '../orchestrator/graph/trim.js';
import { ThreadLeases } from '../orchestrator/thread-lease.js';
import { PgCheckpointSaver } from '../orchestrator/checkpoint/pg-saver.js';
import { ThreadLocks } from '../orchestrator/thread-lock.js';
import type { TurnDeps } from '../orchestrator/turn.js';
import { createEmbedder, MemoryStore } from '../memory/index.js';
import { memoryMiddleware } from '../memory/recall-context.js';
import { summarizeConversation, threadTranscript } from '../memory/summaries.js';
import { memoryTools } from '../memory/tools/index.js';
import { SUPERVISOR_ID } from '../core/chat/supervisor.js';
import { PLATFORMS } from './platforms.js';
import { systemClock, type Clock } from '../core/clock/index.js';
import type { Notifier } from '../orchestrator/notify/notifier.js';
import { ApprovalRouting } from '../orchestrator/approvals/routing.js';

export interface ComposeTeamOptions {
  loaded: LoadedConfig;
  pool: pg.Pool;
  queue: JobQueue;
  checkpointer: BaseCheckpointSaver;
  outbox: OutboxPort;
  metrics: Metrics;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  durability: TurnDeps['durability'];
  modelFor?: (persona: Pick<Persona, 'id' | 'model' | 'fallbackModels' | 'reasoning'>) => BaseChatModel;
  /** Tool groups provided by modules (github, workspace, infra). */
  groups?: Record<string, ToolGroupFactory>;
  /** Tool groups known only at run time (`mcp:<server>`), provided by modules. */
  liveGroups?: Record<string, LiveToolGroup>;
  /** Chat commands; the team adds /status, /personas, approve and deny. */
  commands?: ChatCommands;
  /** Shared instances, when the caller built them already. */
  ledger?: WorkLedger;
  audit?: AuditLog;
  approvers?: Approvers;
  registry?: PersonaRegistry;
  /** The process's clock (approval expiry and escalation); default the system's. */
  clock?: Clock;
  /** The notifier: approvers are then reached through it (quiet hours, escalation). */
  notifier?: Notifier;
}

/** The orchestrator's parts, wired from the config: team graph, approvals, ledger, audit, routing. */
export function composeTeam(opts: ComposeTeamOptions) {
  const { loaded, pool, queue, outbox, metrics, logger, env } = opts;
  const { config, personas } = loaded;
  const registry = opts.registry ?? new PersonaRegistry(personas);
  const recorder = new PgUsageRecorder(pool);
  const audit = opts.audit ?? new AuditLog(pool);
  const ledger = opts.ledger ?? new WorkLedger(pool);
  const clock = opts.clock ?? systemClock;
  const approvals = new ApprovalStore(pool, clock);
  const approvers = opts.approvers ?? new Approvers(config.humans);
  const routing = opts.notifier
    ? new ApprovalRouting({ pool, notifier: opts.notifier, outbox, humans: config.humans, escalation: config.policy.escalation, clock, logger: logger.child({ component: 'approvals' }) })
    : undefined;
  const commands = opts.commands ?? new ChatCommands();
  commands.register({
    name: 'status',
    description: 'the work in flight',
    run: async () => summarizeInFlight(await ledger.list()),
  });
  commands.register({
    name: 'personas',
    description: 'who is on the team',
    run: async () => personas.map((p) => `- @${p.id} ${p.name} (${p.role}${p.lens ? `, ${p.lens} lens` : ''}): ${p.description}`).join('\n'),
  });
  const desk = new ApprovalDesk({ store: approvals, approvers, audit, outbox, drain: scheduleDrain(queue), logger, ...(routing ? { routing } : {}) });
  for (const command of approvalCommands(desk)) commands.register(command);
  const guard = new ToolGuard({
    policy: config.policy,
    personaPolicy: (id) => registry.get(id)?.policy,
    approvals: new ApprovalRequests({ store: approvals, approvers, outbox, clock, ...(routing ? { routing } : {}) }),
    audit,
    metrics,
    logger,
    clock,
  });
  const modelFor = opts.modelFor ?? ((persona) => createPersonaModel({ persona, models: config.models, env, recorder, metrics, logger }));
  // Shared memory: recalled into each persona's context, written by the memory tools and by summaries.
  const memory = new MemoryStore(pool, createEmbedder(config.memory.embedder, env), { logger });
  const guards = pgTeamGuards({
    pool,
    ledger,
    personas: new Map(personas.map((p) => [p.id, p])),
    maxTurnsPerMessage: config.orchestrator.maxTurnsPerMessage,
    maxHandoffsPerHour: config.orchestrator.maxHandoffsPerHour,
    teamBudget: config.orchestrator.budget,
  });
  const summarizer = modelFor({ id: SUPERVISOR_ID });
  // Memory summaries are the orchestrator's own model calls: the team's budget is checked before each.
  const summarizerBudget = () => guards.budgetSpent(SUPERVISOR_ID);
  const summarizeWork = async (item: { id: string; title: string; originThread: string | null }) => {
    if (!item.originThread) return;
    const thread = item.originThread;
    // The thread's transcript on any platform (the local chat's table, or what came in and went out).
    await threadTranscript(pool, thread)
      .then((messages) => summarizeConversation({ store: memory, model: summarizer, threadId: thread, messages, workItem: { id: item.id, title: item.title }, budgetSpent: summarizerBudget }))
      .catch((err) => logger.warn({ err, workItem: item.id }, 'could not summarise the finished work into memory'));
  };
  // Each persona's tools are built once: its fixed groups, and its live ones asked before each model step.
  const built = new Map<string, ReturnType<typeof buildPersonaTools>>();
  const personaTools = (persona: Persona) => {
    let b = built.get(persona.id);
    if (!b) built.set(persona.id, (b = buildPersonaTools(persona, { outbox, team: personas, groups: { memory: memoryTools({ store: memory }), ...opts.groups }, liveGroups: opts.liveGroups })));
    return b;
  };
  const graph = buildTeam({
    personas,
    logger: logger.child({ component: 'models' }),
    checkpointer: opts.checkpointer,
    archive: pgTranscriptArchive(pool),
    modelFor,
    toolsFor: (persona) => personaTools(persona).tools,
    liveToolsFor: (persona) => personaTools(persona).live,
    middlewareFor: (id) => [
      memoryMiddleware(memory, id, { tokenBudget: config.memory.recallTokenBudget, logger }),
      ...(isProgressPort(outbox) ? [progressMiddleware(id, outbox, { afterMs: config.orchestrator.progressAfterSeconds * 1000 })] : []),
    ],
    contextFor: (persona, model) => {
      const own = 'context' in persona ? persona.context : undefined;
      const spec = primaryModel(persona, config.models, env);
      return contextKeeper({
        policy: contextPolicy(config.orchestrator.context, own, spec),
        modelSpec: spec,
        summaryModel: config.models.summary ? modelFor({ id: persona.id, model: config.models.summary }) : model,
        // The summary's usage is recorded as the persona's: its budget (and the team's) is checked before each summary call.
        budgetSpent: () => guards.budgetSpent(persona.id),
        personaId: persona.id,
        logger,
        onCompacted: (ms) => metrics.compactionDuration.observe(ms / 1000),
      });
    },
    onWorkFinished: summarizeWork,
    guard,
    ledger,
    outbox,
    defaultPersona: config.orchestrator.defaultPersona,
    guards,
  });
  commands.register(newContextCommand(graph));
  const turnDeps: TurnDeps = {
    pool,
    queue,
    graph,
    outbox,
    locks: new ThreadLocks(),
    leases: queue.kind === 'bullmq' ? new ThreadLeases(pool) : undefined,
    checkpoints: opts.checkpointer instanceof PgCheckpointSaver ? opts.checkpointer : undefined,
    router: {
      personas: registry,
      bindings: config.bindings,
      knownHumans: config.humans.flatMap((h) => [h.id, h.local].filter((x): x is string => !!x)),
      orchestratorPlatforms: new Set(PLATFORMS.filter((p) => p.platform.orchestratorChat).map((p) => p.platform.name)),
    },
    desk,
    metrics,
    logger,
    durability: opts.durability,
    budgetSpent: (id) => guards.budgetSpent(id),
    cleanThreads: new Set(),
    commands,
  };
  return { graph, desk, turnDeps, audit, ledger, approvals, approvers, registry, memory, summarizer, summarizerBudget, commands };
}

/** The persona's first model, as its chain resolves it; undefined when none resolves (the model itself reports that). */
function primaryModel(persona: Pick<Persona, 'id' | 'model'>, models: LoadedConfig['config']['models'], env: NodeJS.ProcessEnv): string | undefined {
  try {
    return resolveModelChain(persona, models, env)[0];
  } catch {
    return undefined;
  }
}

function isProgressPort(outbox: OutboxPort): outbox is OutboxPort & ProgressPort {
  return typeof (outbox as Partial<ProgressPort>).typing === 'function' && typeof (outbox as Partial<ProgressPort>).canEdit === 'function';
}
