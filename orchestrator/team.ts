import type { Logger } from '../core/log.js';
import type { createMiddleware } from 'langchain';
import type { BaseCheckpointSaver } from '@langchain/langgraph';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { StructuredToolInterface } from '@langchain/core/tools';
import type { Persona } from '../core/config/persona-schema.js';
import type { OutboxPort, PantheonTool } from '../tools/types.js';
import { toLangChainTool } from '../tools/langchain.js';
import type { ToolGuard } from '../tools/guard.js';
import type { WorkItem, WorkLedger } from '../ledger/index.js';
import type { ContextKeeper } from './graph/context.js';
import { personaMessagesMiddleware } from './graph/foreign-messages.js';
import { createHandoffTool } from './graph/handoff-tool.js';
import { SUPERVISOR_ID } from './graph/posting.js';
import { buildTeamGraph, type TeamGuards, type TeamMember } from './graph/team-graph.js';
import type { TranscriptArchive } from './graph/trim.js';
import { ledgerTools } from './ledger-tools.js';
import { composeSystemPrompt, composeSupervisorPrompt } from './system-prompt.js';

export interface TeamDeps {
  personas: readonly Persona[];
  checkpointer: BaseCheckpointSaver;
  modelFor: (persona: Pick<Persona, 'id' | 'model' | 'fallbackModels' | 'reasoning'>) => BaseChatModel;
  /** The persona's granted tools (chat, github, ...), built with its own credentials only. */
  toolsFor: (persona: Persona) => PantheonTool[];
  /** The persona's tools known only at run time (its `mcp:<server>` groups), if it has any. */
  liveToolsFor?: (persona: Persona) => (() => Promise<{ tools: PantheonTool[]; problems: string[] }>) | undefined;
  guard: ToolGuard;
  ledger: WorkLedger;
  outbox: OutboxPort;
  guards: TeamGuards;
  defaultPersona: string;
  /** Middleware run before a persona's own (e.g. recalled memories added to its context). */
  middlewareFor?: (personaId: string) => AgentMiddleware[];
  /** The keeper of what a persona's model is sent of a thread (its history budget, the rolling summary); left out, the whole transcript. */
  contextFor?: (persona: Pick<Persona, 'id' | 'model' | 'context'>, model: BaseChatModel) => ContextKeeper;
  /** Where messages that leave a thread's state are kept (graph/trim.ts); left out, the state keeps the whole transcript. */
  archive?: TranscriptArchive;
  /** Called when a work item is finished (done, merged): e.g. summarise it into memory. */
  onWorkFinished?: (item: WorkItem) => Promise<void>;
  /** Where a model's failure is logged with what the provider said (the chat is told only which model and how). */
  logger?: Logger;
}

type AgentMiddleware = ReturnType<typeof createMiddleware>;

/** Builds every persona's agent from its YAML, the orchestrator's supervisor, and the graph joining them. */
export function buildTeam(deps: TeamDeps) {
  const roster = deps.personas.map((p) => ({ id: p.id, name: p.name, role: p.role }));
  const work = ledgerTools(deps.ledger, deps.outbox, deps.onWorkFinished);
  const guarded = (tools: PantheonTool[], persona: string) => tools.map((t) => toLangChainTool(t, deps.guard, persona));

  const members: TeamMember[] = deps.personas.map((persona) => {
    const tools: StructuredToolInterface[] = guarded(deps.toolsFor(persona), persona.id);
    if (persona.tools.includes('handoff')) tools.push(createHandoffTool(persona.id, roster), ...guarded(work, persona.id));
    const model = deps.modelFor(persona);
    const live = deps.liveToolsFor?.(persona);
    // Each live tool list is wrapped once (the model's tool binding is kept per list).
    const wrapped = new WeakMap<PantheonTool[], StructuredToolInterface[]>();
    const liveTools = live
      ? async () => {
          const { tools: found, problems } = await live();
          let lc = wrapped.get(found);
          if (!lc) wrapped.set(found, (lc = guarded(found, persona.id)));
          return { tools: lc, notes: problems };
        }
      : undefined;
    return {
      liveTools,
      id: persona.id,
      name: persona.name,
      model,
      context: deps.contextFor?.(persona, model),
      showReasoning: persona.reasoning?.show === true,
      tools,
      systemPrompt: composeSystemPrompt(
        persona,
        deps.personas,
        tools.map((t) => t.name),
      ),
      middleware: [...(deps.middlewareFor?.(persona.id) ?? []), personaMessagesMiddleware(persona.id)] as never[],
    };
  });

  const supervisorModel = deps.modelFor({ id: SUPERVISOR_ID });
  const supervisor: TeamMember = {
    id: SUPERVISOR_ID,
    name: 'Pantheon',
    model: supervisorModel,
    context: deps.contextFor?.({ id: SUPERVISOR_ID }, supervisorModel),
    tools: [
      createHandoffTool(SUPERVISOR_ID, roster),
      ...guarded(
        work.filter((t) => t.risk === 'read'),
        SUPERVISOR_ID,
      ),
    ],
    systemPrompt: composeSupervisorPrompt(deps.personas, deps.defaultPersona),
    middleware: [...(deps.middlewareFor?.(SUPERVISOR_ID) ?? []), personaMessagesMiddleware(SUPERVISOR_ID)] as never[],
  };

  return buildTeamGraph({ members, supervisor, checkpointer: deps.checkpointer, outbox: deps.outbox, guards: deps.guards, archive: deps.archive, logger: deps.logger });
}
