import { Command, END, START, StateGraph, type BaseCheckpointSaver, type LangGraphRunnableConfig } from '@langchain/langgraph';
import { HumanMessage } from '@langchain/core/messages';
import type { OutboxPort } from '../../tools/types.js';
import { HANDOFF_NODE, } from './handoff-tool.js';
import { postNewMessages, postNotice, SUPERVISOR_ID } from './posting.js';
import { TeamState, type HandoffRequest, type TeamStateValue } from './state.js';

/** A compiled agent graph (createAgent(...).graph) usable as a node. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AgentNode = any;

export interface TeamMember {
  id: string;
  name: string;
  graph: AgentNode;
}

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
}

export const nodeName = (personaId: string) => (personaId === SUPERVISOR_ID ? 'supervisor' : `p_${personaId}`);
const NEXT = 'next';

/**
 * The team graph, one thread per conversation: `next` hands the turn to each addressed persona in
 * order; a persona's `handoff` tool jumps to the gate, which applies the loop guards, records the
 * work and hands the receiver the message. Every node posts what was said before it moves on.
 */
export function buildTeamGraph(deps: TeamGraphDeps) {
  const { guards, outbox } = deps;
  const members = [...deps.members, ...(deps.supervisor ? [deps.supervisor] : [])];
  const byId = new Map(members.map((m) => [m.id, m]));
  const destinations = members.map((m) => nodeName(m.id));

  const next = async (state: TeamStateValue) => {
    const cursor = await postNewMessages(state, outbox);
    let queue = state.queue;
    while (queue.length) {
      const [head, ...rest] = queue;
      queue = rest;
      if (!byId.has(head!)) continue;
      if (state.turns >= guards.maxTurnsPerMessage) {
        await postNotice(state, outbox, 'turn-cap', `Stopped: ${guards.maxTurnsPerMessage} persona turns for one message is the limit (orchestrator.maxTurnsPerMessage). Send a new message to continue.`);
        return new Command({ goto: END, update: { cursor, queue: [] } });
      }
      const spent = await guards.budgetSpent(head!);
      if (spent) {
        await postNotice(state, outbox, `budget-${head}`, spent);
        continue;
      }
      return new Command({ goto: nodeName(head!), update: { cursor, queue, turns: state.turns + 1 } });
    }
    return new Command({ goto: END, update: { cursor, queue: [] } });
  };

  const handoff = async (state: TeamStateValue) => {
    const cursor = await postNewMessages(state, outbox);
    const request = state.handoff;
    if (!request || !byId.has(request.to)) return new Command({ goto: NEXT, update: { cursor, handoff: null } });
    const stop = async (kind: string, text: string) => {
      await postNotice(state, outbox, kind, text);
      return new Command({ goto: END, update: { cursor, handoff: null, queue: [] } });
    };
    if (state.turns >= guards.maxTurnsPerMessage) {
      return stop('turn-cap', `Stopped handing off: ${guards.maxTurnsPerMessage} persona turns for one message is the limit (orchestrator.maxTurnsPerMessage). Send a new message to continue.`);
    }
    const recent = await guards.handoffsInLastHour(state.turn?.threadId ?? '');
    if (recent >= guards.maxHandoffsPerHour) {
      return stop('handoff-cap', `Stopped handing off: this thread reached ${guards.maxHandoffsPerHour} handoffs in the last hour (orchestrator.maxHandoffsPerHour). A human can pick it up from here.`);
    }
    const spent = await guards.budgetSpent(request.to);
    if (spent) return stop(`budget-${request.to}`, spent);
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
   * A persona's turn: its agent runs as a subgraph (its own checkpoints, interrupts and resumes);
   * a handoff leaves through the agent's handoff tool (Command.PARENT → the gate). When nobody
   * else is waiting this turn, the node posts what was said and ends the run itself, which saves
   * the graph a step (a checkpoint and its writes) on every plain answer; otherwise `next` does.
   */
  const persona = (m: TeamMember) => async (state: TeamStateValue, config: LangGraphRunnableConfig) => {
    const out = (await m.graph.invoke(state, config)) as { messages: TeamStateValue['messages'] };
    if (state.queue.length) return new Command({ goto: NEXT, update: { messages: out.messages } });
    const cursor = await postNewMessages({ ...state, messages: out.messages }, outbox);
    return new Command({ goto: END, update: { messages: out.messages, cursor, queue: [] } });
  };

  const graph = new StateGraph(TeamState)
    .addNode(NEXT, next, { ends: [...destinations, END] })
    .addNode(HANDOFF_NODE, handoff, { ends: [...destinations, NEXT, END] });
  for (const m of members) graph.addNode(nodeName(m.id), persona(m), { ends: [HANDOFF_NODE, NEXT, END], subgraphs: [m.graph] });
  // A new turn goes straight to its first persona (the caller checked its budget); resumes never pass here.
  graph.addConditionalEdges(START, (s: TeamStateValue) => (s.start && byId.has(s.start) ? nodeName(s.start) : NEXT), [...destinations, NEXT] as never);
  return graph.compile({ checkpointer: deps.checkpointer });
}

export type TeamGraph = ReturnType<typeof buildTeamGraph>;
