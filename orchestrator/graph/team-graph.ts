import type { Logger } from '../../core/log.js';
import { Command, END, Send, START, StateGraph, type BaseCheckpointSaver, type LangGraphRunnableConfig } from '@langchain/langgraph';
import { AIMessage, HumanMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import type { OutboxPort } from '../../tools/types.js';
import { HANDOFF_NODE } from './handoff-tool.js';
import { installLightRunContext } from '../../agents/lc-context.js';
import { currentRun } from '../../agents/run-context.js';
import { compilePersona, taskIdOf, type CompiledPersona, type PersonaAgent, type ToolTaskInput } from './persona-agent.js';
import { takeModelTurn, type ModelTurn } from './model-turn.js';
import { BudgetSpent } from '../budget.js';
import { postNewMessages, postNotice, SHOW_REASONING, SUPERVISOR_ID } from './posting.js';
import { TeamState, turnInfo, type HandoffRequest, type TeamStateValue, type TurnFailure } from './state.js';
import { planTrim, type TranscriptArchive } from './trim.js';

/** A persona (or the supervisor) as it takes part in the team graph. */
export type TeamMember = PersonaAgent;

/** The loop guards, budgets and bookkeeping the graph consults; backed by Postgres in production. */
export interface TeamGuards {
  maxTurnsPerMessage: number;
  maxHandoffsPerHour: number;
  handoffsInLastHour(threadId: string): Promise<number>;
  /** Records the handoff (idempotent by tool call id) and the work it creates; answers the work item's label. */
  recordHandoff(state: TeamStateValue, handoff: HandoffRequest): Promise<{ workItem?: string }>;
  /** A message to show when the persona has spent its daily budget, else null. */
  budgetSpent(personaId: string): Promise<string | null>;
}

export interface TeamGraphDeps {
  members: TeamMember[];
  /** The orchestrator's own agent, for conversations with no persona addressed. */
  supervisor?: TeamMember;
  checkpointer: BaseCheckpointSaver;
  outbox: OutboxPort;
  guards: TeamGuards;
  /**
   * Where messages go when they leave the state (folded or before a /new, and posted), so a
   * step's checkpoint stays the size of the window; left out, the state keeps the whole transcript.
   */
  archive?: TranscriptArchive;
  logger?: Logger;
}

export const nodeName = (personaId: string) => (personaId === SUPERVISOR_ID ? 'supervisor' : `p_${personaId}`);
/** The node running a persona's tool calls, one task per call. */
const toolsNodeName = (personaId: string) => `${nodeName(personaId)}_tools`;
const NEXT = 'next';

/** The update that marks the turn as one a persona could not answer (`text`: what the chat was told). */
const couldNotAnswer = (state: TeamStateValue, text: string): { failure: TurnFailure } => ({ failure: { inbound: turnInfo(state.turn)?.inboundIds[0] ?? null, text } });

/**
 * The team graph, one thread per conversation: `next` hands the turn to each addressed persona in
 * order; a persona's `handoff` tool jumps to the gate, which applies the loop guards, records the
 * work and hands the receiver the message. Every node posts what was said before it moves on.
 */
export function buildTeamGraph(deps: TeamGraphDeps) {
  installLightRunContext();
  const { guards, outbox } = deps;
  const members = [...deps.members, ...(deps.supervisor ? [deps.supervisor] : [])];
  const byId = new Map(members.map((m) => [m.id, m]));
  const destinations = members.map((m) => nodeName(m.id));

  const next = async (state: TeamStateValue) => {
    const cursor = await postNewMessages(state, outbox);
    let queue = state.queue;
    let failed: { failure: TurnFailure } | Record<string, never> = {};
    while (queue.length) {
      const [head, ...rest] = queue;
      queue = rest;
      if (!byId.has(head!)) continue;
      if (state.turns >= guards.maxTurnsPerMessage) {
        await postNotice(
          state,
          outbox,
          'turn-cap',
          `Stopped: ${guards.maxTurnsPerMessage} persona turns for one message is the limit (orchestrator.maxTurnsPerMessage). Send a new message to continue.`,
        );
        return new Command({ goto: END, update: { cursor, queue: [], ...failed } });
      }
      const spent = await guards.budgetSpent(head!);
      if (spent) {
        await postNotice(state, outbox, `budget-${head}`, spent);
        failed = couldNotAnswer(state, spent);
        continue;
      }
      return new Command({ goto: nodeName(head!), update: { cursor, queue, turns: state.turns + 1, ...failed } });
    }
    return new Command({ goto: END, update: { cursor, queue: [], ...failed } });
  };

  const handoff = async (state: TeamStateValue) => {
    const cursor = await postNewMessages(state, outbox);
    const request = state.handoff;
    if (!request || !byId.has(request.to)) return new Command({ goto: NEXT, update: { cursor, handoff: null } });
    const stop = async (kind: string, text: string, failed = false) => {
      await postNotice(state, outbox, kind, text);
      return new Command({ goto: END, update: { cursor, handoff: null, queue: [], ...(failed ? couldNotAnswer(state, text) : {}) } });
    };
    if (state.turns >= guards.maxTurnsPerMessage) {
      return stop('turn-cap', `Stopped handing off: ${guards.maxTurnsPerMessage} persona turns for one message is the limit (orchestrator.maxTurnsPerMessage). Send a new message to continue.`);
    }
    const recent = await guards.handoffsInLastHour(state.turn?.threadId ?? '');
    if (recent >= guards.maxHandoffsPerHour) {
      return stop(
        'handoff-cap',
        `Stopped handing off: this thread reached ${guards.maxHandoffsPerHour} handoffs in the last hour (orchestrator.maxHandoffsPerHour). A human can pick it up from here.`,
      );
    }
    const spent = await guards.budgetSpent(request.to);
    if (spent) return stop(`budget-${request.to}`, spent, true);
    const { workItem } = await guards.recordHandoff(state, request);
    const from = byId.get(request.from)?.name ?? request.from;
    const ask = new HumanMessage({
      id: `handoff:${request.toolCallId}`,
      name: request.from,
      content: `${from} hands this to you${workItem ? ` (work item ${workItem})` : ''}: ${request.message}`,
    });
    return new Command({ goto: nodeName(request.to), update: { cursor, handoff: null, turns: state.turns + 1, messages: [ask] } });
  };

  /**
   * A persona's model step. Tool calls go out as one task each to the persona's tool node, which
   * comes back here; a handoff tool's request (set in that tool step) goes on to the gate. An
   * answer with nobody else waiting this turn is posted here and ends the run; otherwise `next`
   * posts it and hands over. The answer's id is the step's task id, the same if the step runs
   * again after a crash, so a re-generated answer cannot be posted a second time.
   */
  const modelStep = (m: TeamMember, agent: CompiledPersona) => {
    return async (state: TeamStateValue, config: LangGraphRunnableConfig) => {
      if (state.handoff && state.handoff.from === m.id) return new Command({ goto: HANDOFF_NODE });
      // Stopped for a spent budget: told, and kept in the transcript (so it stays well formed for every provider), never posted as the persona's words.
      const stopForBudget = async (spent: string, context?: TeamStateValue['context']) => {
        const cursor = await postNewMessages(state, outbox);
        await postNotice(state, outbox, `budget-${m.id}`, spent);
        const stopped = new AIMessage({ id: `${m.id}:${taskIdOf(config) ?? 'budget'}:budget`, name: m.id, content: '(Stopped here: the daily budget was spent.)' });
        return new Command({
          goto: END,
          update: { messages: [stopped], cursor: cursor + 1, queue: [], ...couldNotAnswer(state, spent), ...(context && context !== state.context ? { context } : {}) },
        });
      };
      // A run may take many model steps: the budgets are checked before each, not only at the turn's start.
      if (continuesOwnRound(state.messages, m.id)) {
        const spent = await guards.budgetSpent(m.id);
        if (spent) return stopForBudget(spent);
      }
      // What the model is sent: the thread's summary and recent window, within the persona's budget.
      let context = state.context;
      let sent = state.messages;
      let shrink: ((messages: BaseMessage[]) => Promise<BaseMessage[] | undefined>) | undefined;
      let turn: ModelTurn;
      try {
        if (m.context) {
          const keeper = m.context;
          const prepared = await keeper.prepare(state.messages, state.context, config.signal);
          context = prepared.context;
          sent = prepared.messages;
          // Refused as too long anyway (the model's window is smaller than known): compact to half of what was sent.
          shrink = async () => {
            const again = await keeper.prepare(state.messages, context, config.signal, Math.floor(prepared.tokens / 2));
            if (!again.compacted) return undefined;
            context = again.context;
            return again.messages;
          };
        }
        turn = await takeModelTurn({ persona: m, agent, messages: sent, repairs: state.repairs, config, shrink, logger: deps.logger });
      } catch (err) {
        // A summary call (compaction) is a model call too: over budget it is not made, and neither is the persona's.
        if (err instanceof BudgetSpent) return stopForBudget(err.message, context);
        throw err;
      }
      // Messages before the window that are posted leave the state for the archive (archived first:
      // a step re-run after a crash archives the same again, harmlessly).
      let trim = deps.archive ? planTrim(state.messages, state.cursor, context) : undefined;
      if (trim) {
        // Trimming only saves space: if the archive cannot be written, the answer goes on and the
        // messages stay in the state until a later step archives them.
        try {
          await deps.archive!.save(threadOf(state, config), trim.first, trim.leaving);
        } catch (err) {
          deps.logger?.warn({ err, thread: threadOf(state, config) }, 'could not archive messages leaving the thread state; they stay in it for now');
          trim = undefined;
        }
      }
      const kept = trim ? { context: trim.context } : context === state.context ? {} : { context };
      /** The step's update, with the messages that leave the state removed and the cursor moved back by as many. */
      const trimmed = <U extends { messages: BaseMessage[]; cursor?: number }>(u: U) =>
        trim ? { ...u, messages: [...trim.removals, ...u.messages], cursor: (u.cursor ?? state.cursor) - trim.count } : u;
      const task = taskIdOf(config);
      const [answer, ...results] = turn.messages as [AIMessage | undefined, ...BaseMessage[]];
      if (answer && task) answer.id = answer.lc_kwargs.id = `${m.id}:${task}`;
      if (answer && m.showReasoning) answer.response_metadata = { ...answer.response_metadata, [SHOW_REASONING]: true };
      const done = async (messages: BaseMessage[]) => {
        // A notice from the model step is a persona that could not answer (its model failed, or never produced a usable answer).
        const update = { messages, repairs: turn.repairs, ...kept, ...(turn.notice ? couldNotAnswer(state, turn.notice.text) : {}) };
        if (turn.notice) await postNotice(state, outbox, turn.notice.kind, turn.notice.text);
        if (state.queue.length) return new Command({ goto: NEXT, update: trimmed(update) });
        const cursor = await postNewMessages({ ...state, messages: [...state.messages, ...messages] }, outbox);
        return new Command({ goto: END, update: trimmed({ ...update, cursor, queue: [] }) });
      };
      if (!answer || turn.notice) return done(turn.messages);
      if (turn.calls.length || turn.again) {
        // A tool round (or a repair) and the model step after it need more steps: stop with a word instead of failing the run.
        if (stepsOfThisRun(config) + 3 < (config.recursionLimit ?? 25)) {
          const update = trimmed({ messages: [answer, ...results], repairs: turn.repairs, ...kept });
          if (!turn.calls.length) return new Command({ goto: nodeName(m.id), update });
          return new Command({ goto: turn.calls.map((call) => new Send(toolsNodeName(m.id), { call } satisfies ToolTaskInput)), update });
        }
        // The calls are not run: each gets its result so the conversation stays well formed.
        const skipped = turn.calls.map((c) => new ToolMessage({ content: 'Not run: the run reached its step limit.', tool_call_id: c.id!, name: c.name, status: 'error' }));
        const sorry = new AIMessage({ id: `${answer.id}:limit`, name: m.id, content: 'Sorry, I need more steps than this run allows to finish this. Send a new message to continue.' });
        return done([answer, ...results, ...skipped, sorry]);
      }
      return done([answer]);
    };
  };

  /** One tool call of a persona's answer (approvals pause here, this call alone). */
  const toolStep = (agent: CompiledPersona) => {
    return async (input: ToolTaskInput, config: LangGraphRunnableConfig) => {
      const out = await agent.runTool(input.call, config);
      return out instanceof Command ? out : { messages: [out] };
    };
  };

  const graph = new StateGraph(TeamState).addNode(NEXT, next, { ends: [...destinations, END] }).addNode(HANDOFF_NODE, handoff, { ends: [...destinations, NEXT, END] });
  for (const m of members) {
    const agent = compilePersona(m);
    graph.addNode(nodeName(m.id), modelStep(m, agent), { ends: [nodeName(m.id), toolsNodeName(m.id), HANDOFF_NODE, NEXT, END] });
    graph.addNode(toolsNodeName(m.id), toolStep(agent) as never);
    graph.addEdge(toolsNodeName(m.id) as never, nodeName(m.id) as never);
  }
  // A new turn goes straight to its first persona (the caller checked its budget); resumes never pass here.
  graph.addConditionalEdges(START, (s: TeamStateValue) => (s.start && byId.has(s.start) ? nodeName(s.start) : NEXT), [...destinations, NEXT] as never);
  return graph.compile({ checkpointer: deps.checkpointer });
}

export type TeamGraph = ReturnType<typeof buildTeamGraph>;

/** The thread a step runs for. */
function threadOf(state: TeamStateValue, config: LangGraphRunnableConfig): string {
  const id = (config.configurable as { thread_id?: unknown } | undefined)?.thread_id;
  return typeof id === 'string' ? id : (state.turn?.threadId ?? 'unknown');
}

/** Per run (its run context), the first graph step it was seen at. */
const firstSteps = new WeakMap<object, number>();

/**
 * Steps this run has taken so far. `langgraph_step` counts from the thread's first run (a thread of
 * months is thousands of steps in), while the recursion limit is per run: the run's own count is
 * what the limit is checked against. Without a run context (a graph invoked directly): the step.
 */
function stepsOfThisRun(config: LangGraphRunnableConfig): number {
  const step = Number((config.metadata as { langgraph_step?: number } | undefined)?.langgraph_step ?? 0);
  const run = currentRun();
  if (!run) return step;
  const first = firstSteps.get(run);
  if (first === undefined || step < first) {
    firstSteps.set(run, step);
    return 0;
  }
  return step - first;
}

/**
 * The step goes on the persona's own round (after its tool results, or a repair of its answer):
 * a model call the turn's start and the handoff gate did not check the budgets for.
 */
function continuesOwnRound(messages: BaseMessage[], personaId: string): boolean {
  const last = messages.at(-1);
  return !!last && (ToolMessage.isInstance(last) || (AIMessage.isInstance(last) && last.name === personaId));
}
