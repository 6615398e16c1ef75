import { tool as lcTool, type StructuredToolInterface } from '@langchain/core/tools';
import type { ToolRunnableConfig } from '@langchain/core/tools';
import { z } from 'zod';
import { currentRun } from '../agents/run-context.js';
import type { ToolGuard } from './guard.js';
import type { PantheonTool, ToolCall } from './types.js';

/** `configurable` keys the orchestrator sets on each persona run, besides LangGraph's `thread_id`. */
export const CONFIGURABLE_PLATFORM = 'pantheon_platform';
const CONFIGURABLE_INBOUND = 'pantheon_inbound';
const CONFIGURABLE_REQUESTED_BY = 'pantheon_requested_by';

/** The argument every tool gets so approvers see why the persona wants to call it. */
const REASON_ARG = 'reason';
const REASON_DESCRIPTION = 'Why you are calling this tool, in one sentence; shown to the humans who approve risky calls.';

/**
 * A Pantheon tool as a LangChain tool for `createAgent`, with every call going through the
 * guard. The schema gains an optional `reason` argument (unless the tool has its own).
 */
export function toLangChainTool(tool: PantheonTool, guard: ToolGuard, persona?: string): StructuredToolInterface {
  const { schema, addsReason } = tool.jsonSchema ? withReasonJson(tool.jsonSchema) : withReason(tool.schema);
  return lcTool(
    async (input: unknown, config: ToolRunnableConfig) => {
      // Tools are built per persona: the persona they belong to is the caller, whatever run they are in.
      const found = toolCallFrom(tool.name, config);
      const call = persona ? { ...found, persona } : found;
      let args = input;
      let reason: string | undefined;
      if (addsReason && input && typeof input === 'object') {
        const { [REASON_ARG]: given, ...rest } = input as Record<string, unknown>;
        args = rest;
        reason = typeof given === 'string' && given.trim() ? given.trim() : undefined;
      } else if (input && typeof input === 'object' && typeof (input as Record<string, unknown>)[REASON_ARG] === 'string') {
        reason = (input as Record<string, string>)[REASON_ARG];
      }
      return guard.run(tool, args, call, { reason });
    },
    { name: tool.name, description: tool.description, schema: schema as z.ZodObject },
  ) as unknown as StructuredToolInterface;
}

/** The same for a JSON Schema (an MCP server's tool): `reason` joins its properties, unless it has its own. */
function withReasonJson(schema: Record<string, unknown>): { schema: Record<string, unknown>; addsReason: boolean } {
  const properties = (schema.properties && typeof schema.properties === 'object' ? schema.properties : {}) as Record<string, unknown>;
  if (schema.type !== undefined && schema.type !== 'object') return { schema, addsReason: false };
  if (Object.hasOwn(properties, REASON_ARG)) return { schema, addsReason: false };
  return { schema: { ...schema, type: 'object', properties: { ...properties, [REASON_ARG]: { type: 'string', description: REASON_DESCRIPTION } } }, addsReason: true };
}

function withReason(schema: z.ZodType): { schema: z.ZodType; addsReason: boolean } {
  if (!(schema instanceof z.ZodObject)) return { schema, addsReason: false };
  if (REASON_ARG in schema.shape) return { schema, addsReason: false };
  return { schema: schema.extend({ [REASON_ARG]: z.string().optional().describe(REASON_DESCRIPTION) }), addsReason: true };
}

/**
 * The `ToolCall` for a call running inside a persona's agent. LangGraph's ToolNode invokes
 * the tool with the model's tool call (`config.toolCall`, also `config.toolCallId`) and the
 * run's config (`configurable.thread_id` and the orchestrator's `pantheon_*` keys); the
 * persona and run id come from the orchestrator's `withRun`.
 */
export function toolCallFrom(toolName: string, config: ToolRunnableConfig | undefined): ToolCall {
  const id = config?.toolCall?.id ?? (config as { toolCallId?: string } | undefined)?.toolCallId;
  if (!id) throw new Error(`${toolName} was called without a tool call id: Pantheon tools run inside a persona's agent, not on their own`);
  const configurable = (config?.configurable ?? {}) as Record<string, unknown>;
  const threadId = configurable.thread_id;
  if (typeof threadId !== 'string' || !threadId) throw new Error(`${toolName} was called outside a thread: the run's config has no configurable.thread_id`);
  const run = currentRun();
  if (!run) throw new Error(`${toolName} was called outside a persona run: wrap the agent invocation in withRun({ runId, persona })`);
  const platform = typeof configurable[CONFIGURABLE_PLATFORM] === 'string' ? (configurable[CONFIGURABLE_PLATFORM] as string) : threadId.split(':')[0]!;
  const inbound = configurable[CONFIGURABLE_INBOUND];
  return {
    id,
    threadId,
    platform,
    persona: run.persona,
    runId: run.runId,
    ...(typeof inbound === 'string' && inbound ? { inboundId: inbound } : {}),
    ...(typeof configurable[CONFIGURABLE_REQUESTED_BY] === 'string' ? { requestedBy: configurable[CONFIGURABLE_REQUESTED_BY] as string } : {}),
  };
}
