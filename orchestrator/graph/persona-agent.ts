import { AIMessage, SystemMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { Runnable } from '@langchain/core/runnables';
import { ToolInputParsingException, type StructuredToolInterface } from '@langchain/core/tools';
import { isCommand, isGraphBubbleUp, type Command, type LangGraphRunnableConfig } from '@langchain/langgraph';
import type { ToolCall } from '@langchain/core/messages/tool';
import type { ContextKeeper } from './context.js';

/**
 * A persona's agent as two nodes of the team graph rather than a graph of its own: a model step
 * (the persona's model, with its system prompt, tools and model-call middleware) and a tool step
 * (one task per tool call, so an approval that pauses one call leaves the others' results saved).
 * A subgraph per persona cost a Pregel loop, its own checkpoints and a checkpoint read on every
 * turn; as nodes, a plain answer is one step of the team graph.
 */
export interface PersonaAgent {
  id: string;
  /** The name it posts under. */
  name: string;
  model: BaseChatModel;
  tools: StructuredToolInterface[];
  /**
   * Tools known only at run time (an MCP server's), asked before each model step and for a tool
   * call `tools` does not have: the same array while they are unchanged. `notes` say which are
   * unavailable and why; the model is told them with its system prompt.
   */
  liveTools?: () => Promise<{ tools: StructuredToolInterface[]; notes: string[] }>;
  systemPrompt: string;
  /** Post the model's thinking (reasoning) with its answer; left out, only the answer is posted. */
  showReasoning?: boolean;
  /** Keeps what the model is sent within the persona's history budget (graph/context.ts); left out, the whole transcript is sent. */
  context?: ContextKeeper;
  /** langchain middleware (`createMiddleware`): its `wrapModelCall` and `wrapToolCall` hooks apply, first outermost. */
  middleware: ModelCallMiddleware[];
}

/** What a `wrapModelCall` hook is handed: the part of langchain's ModelRequest Pantheon's middleware uses. */
interface ModelCallRequest {
  model: BaseChatModel;
  messages: BaseMessage[];
  systemMessage: SystemMessage;
  systemPrompt: string;
  tools: StructuredToolInterface[];
  state: { messages: BaseMessage[] };
  runtime: Readonly<{ configurable?: Record<string, unknown>; signal?: AbortSignal; context?: unknown }>;
}
type ModelCallHandler = (request: ModelCallRequest) => Promise<AIMessage>;
/** What a `wrapToolCall` hook is handed (as langchain's ToolCallRequest). */
interface ToolCallRequest {
  toolCall: ToolCall;
  tool: StructuredToolInterface | undefined;
  state: Record<string, never>;
  runtime: ModelCallRequest['runtime'];
}
type ToolCallHandler = (request: ToolCallRequest) => Promise<ToolMessage | Command>;
interface ModelCallMiddleware {
  name: string;
  wrapModelCall?: (request: ModelCallRequest, handler: ModelCallHandler) => Promise<unknown>;
  wrapToolCall?: (request: ToolCallRequest, handler: ToolCallHandler) => Promise<unknown>;
}

/** The input of a tool task: one of the model's tool calls. */
export interface ToolTaskInput {
  call: ToolCall;
}

export interface CompiledPersona {
  /** Calls the model through the middleware; the answer is stamped with the persona's id. */
  callModel(messages: BaseMessage[], config: LangGraphRunnableConfig): Promise<AIMessage>;
  /** The tools the model is offered now: its own, and its live ones (an MCP server's) as last listed. */
  tools(): Promise<StructuredToolInterface[]>;
  /** Runs one tool call: a ToolMessage, or the tool's Command (a handoff). Interrupts pass through. */
  runTool(call: ToolCall, config: LangGraphRunnableConfig): Promise<ToolMessage | Command>;
}

export function compilePersona(agent: PersonaAgent): CompiledPersona {
  for (const m of agent.middleware) {
    const unsupported = ['beforeAgent', 'beforeModel', 'afterModel', 'afterAgent'].filter((hook) => (m as unknown as Record<string, unknown>)[hook]);
    if (unsupported.length) throw new Error(`middleware ${m.name} of ${agent.id} uses ${unsupported.join(', ')}: persona middleware may only wrap model and tool calls (wrapModelCall, wrapToolCall)`);
  }
  const byName = new Map(agent.tools.map((t) => [t.name, t]));
  const systemMessage = new SystemMessage(agent.systemPrompt);
  // Keyed by the tool array: a live tool list that changed is a new array, and the old binding goes with the old array.
  const bindings = new WeakMap<StructuredToolInterface[], Runnable>();
  const withLive = new WeakMap<StructuredToolInterface[], StructuredToolInterface[]>();
  const currentTools = async (): Promise<{ tools: StructuredToolInterface[]; notes: string[] }> => {
    if (!agent.liveTools) return { tools: agent.tools, notes: [] };
    const live = await agent.liveTools();
    if (!live.tools.length) return { tools: agent.tools, notes: live.notes };
    let tools = withLive.get(live.tools);
    if (!tools) withLive.set(live.tools, (tools = [...agent.tools, ...live.tools]));
    return { tools, notes: live.notes };
  };
  const bound = (model: BaseChatModel, tools: StructuredToolInterface[]) => {
    if (!tools.length || !model.bindTools) return model;
    if (model !== agent.model) return model.bindTools(tools);
    let b = bindings.get(tools);
    if (!b) bindings.set(tools, (b = model.bindTools(tools)));
    return b;
  };

  // First middleware outermost, as createAgent composes them. A hook may change the system message
  // (or the prompt string), the messages or the model; the next layer sees what it passed on.
  const hooks = agent.middleware.filter((m) => m.wrapModelCall).reverse();
  const chain = (config: LangGraphRunnableConfig): ModelCallHandler => {
    let handler: ModelCallHandler = async (request) => {
      const messages = request.systemMessage.text === '' ? request.messages : [request.systemMessage, ...request.messages];
      const answer = await bound(request.model, request.tools).invoke(messages, config);
      if (!AIMessage.isInstance(answer)) throw new Error(`${agent.id}'s model answered with something other than an AI message`);
      return answer;
    };
    for (const m of hooks) {
      const inner = handler;
      handler = async (request) => {
        const answer = await m.wrapModelCall!(request, (req) => inner(normalise(request, req)));
        if (!AIMessage.isInstance(answer)) throw new Error(`middleware ${m.name} answered with something other than an AI message`);
        return answer;
      };
    }
    return handler;
  };

  const toolHooks = agent.middleware.filter((m) => m.wrapToolCall).reverse();
  const toolChain = (config: LangGraphRunnableConfig): ToolCallHandler => {
    let handler: ToolCallHandler = async ({ toolCall: call, tool }) => {
      if (!tool) {
        return new ToolMessage({ content: `Error: ${call.name} is not a valid tool, try one of [${[...byName.keys()].join(', ')}].`, tool_call_id: call.id ?? '', name: call.name, status: 'error' });
      }
      const out: unknown = await tool.invoke({ ...call, type: 'tool_call' }, { ...config, toolCall: call, toolCallId: call.id } as never);
      if (ToolMessage.isInstance(out) || isCommand(out)) return out as ToolMessage | Command;
      return new ToolMessage({ name: tool.name, content: typeof out === 'string' ? out : JSON.stringify(out), tool_call_id: call.id ?? '' });
    };
    for (const m of toolHooks) {
      const inner = handler;
      handler = async (request) => {
        const out = await m.wrapToolCall!(request, inner);
        if (!ToolMessage.isInstance(out) && !isCommand(out)) throw new Error(`middleware ${m.name} answered a tool call with something other than a tool message or a Command`);
        return out as ToolMessage | Command;
      };
    }
    return handler;
  };

  return {
    tools: async () => (await currentTools()).tools,

    async callModel(messages, config) {
      const { tools, notes } = await currentTools();
      const prompt = notes.length ? `${agent.systemPrompt}\n\n${notes.join('\n')}` : agent.systemPrompt;
      const system = notes.length ? new SystemMessage(prompt) : systemMessage;
      const answer = await chain(config)({ model: agent.model, messages, systemMessage: system, systemPrompt: prompt, tools, state: { messages }, runtime: runtimeOf(config) });
      answer.name = agent.id;
      answer.lc_kwargs.name = agent.id;
      return answer;
    },

    async runTool(call, config) {
      try {
        const tool = byName.get(call.name) ?? (agent.liveTools ? (await currentTools()).tools.find((t) => t.name === call.name) : undefined);
        return await toolChain(config)({ toolCall: call, tool, state: {}, runtime: runtimeOf(config) });
      } catch (err) {
        // An approval's interrupt (and any other graph signal) must reach the graph.
        if (isGraphBubbleUp(err)) throw err;
        const text =
          err instanceof ToolInputParsingException
            ? `Error invoking tool '${call.name}' with kwargs ${JSON.stringify(call.args)} with error: ${err.message}\n Please fix the error and try again.`
            : `${err}\n Please fix your mistakes.`;
        return new ToolMessage({ name: call.name, content: text, tool_call_id: call.id ?? '', status: 'error' });
      }
    },
  };
}

/** What middleware sees of the run (as createAgent's `runtime`). */
const runtimeOf = (config: LangGraphRunnableConfig): ModelCallRequest['runtime'] => Object.freeze({ configurable: config.configurable, signal: config.signal, context: config.context });

/** A changed system prompt string becomes the system message, and the other way round. */
function normalise(before: ModelCallRequest, req: ModelCallRequest): ModelCallRequest {
  if (req.systemMessage !== before.systemMessage) return { ...req, systemPrompt: req.systemMessage.text };
  if (req.systemPrompt !== before.systemPrompt) return { ...req, systemMessage: new SystemMessage(req.systemPrompt) };
  return req;
}

/**
 * The id of the step's task: the same when a crashed or failed step runs again from its checkpoint,
 * so an answer re-generated there keeps the id its first post was keyed by (nothing posts twice).
 */
export function taskIdOf(config: LangGraphRunnableConfig): string | undefined {
  const ns = (config.metadata as { langgraph_checkpoint_ns?: string } | undefined)?.langgraph_checkpoint_ns;
  return ns?.split('|').at(-1)?.split(':').at(-1) || undefined;
}
