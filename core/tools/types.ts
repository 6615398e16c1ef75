import type { z } from 'zod';
import type { OutboxPort } from '../chat/outbox.js';
import type { PersonaHandles } from '../config/platforms.js';
import type { RiskClass } from '../config/policy.js';

/**
 * The tool contract: what a persona's tool is, what it knows about the call it serves, and the
 * tool groups modules contribute (`PantheonModule.toolGroups`). tools/ implements it; the
 * orchestrator runs it through the guard.
 */

/**
 * Everything a tool knows about the call it is serving. Built by the tool adapter from the
 * LangGraph runtime (thread id, tool call id) and the run context (persona, run id).
 */
export interface ToolCall {
  /** The model's tool call id: stable across a resumed run, so it keys idempotent side effects. */
  id: string;
  threadId: string;
  /** Channel of the thread ('local', 'mattermost', ...). */
  platform: string;
  persona: string;
  runId: string;
  /** The inbound message this run answers, when there is one. */
  inboundId?: string;
  /** Who wrote the message that started this turn (platform user id), e.g. recorded on work items. */
  requestedBy?: string;
}

/**
 * A Pantheon tool: a LangChain tool plus what the policy needs to know. `risk` decides, with the
 * policy, whether the call runs, asks a human first, or is refused. Side-effecting tools must be
 * idempotent per `call.id` (a run resumed after a crash may call them again with the same id).
 */
export interface PantheonTool<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  risk: RiskClass;
  schema: S;
  /**
   * The arguments as JSON Schema, when the tool comes with one rather than a zod schema (an MCP
   * server's tool): offered to the model and checked as given; `schema` then only types `run`.
   */
  jsonSchema?: Record<string, unknown>;
  /** Argument names whose values are secrets: masked in approvals, audit and logs. */
  secretArgs?: string[];
  /** A human approves every call, whatever the policy says (a `deny` still refuses). E.g. merging a PR. */
  alwaysAsk?: boolean;
  /**
   * Risk that depends on the arguments (a shell command: `df -h` reads, `systemctl restart`
   * does not): decides this call in place of `risk`. `{ refuse }` refuses it outright, unasked.
   */
  riskFor?(args: z.output<S>): RiskClass | { refuse: string };
  /**
   * Optional: what the call will actually do, for the approval request, when the arguments alone
   * do not show it (a runbook step's command). Added to the arguments approvers see.
   */
  describeCall?(args: z.output<S>): Record<string, string> | undefined;
  run(args: z.output<S>, call: ToolCall): Promise<string>;
}

/** One persona's own credentials, and nobody else's. */
export interface PersonaCredentials {
  githubToken?: string;
  /** Chat tokens per platform, for tools that act on a platform as this persona. */
  chat: Partial<Record<keyof PersonaHandles, string>>;
}

/**
 * What a tool factory receives when the runtime builds a persona's tools. Built per persona from
 * its own YAML: `credentials` are that persona's only.
 */
export interface ToolContext {
  persona: { id: string; name: string; role: string };
  credentials: PersonaCredentials;
  outbox: OutboxPort;
}

/** A tool group (`chat`, `github`, ...): builds the tools it grants to one persona. */
export type ToolGroupFactory = (ctx: ToolContext) => PantheonTool[];

/**
 * A tool group whose tools are known only at run time, from what serves them (an MCP server): asked
 * before each model call of a persona that lists it, so tools the server adds or removes
 * (`tools/list_changed`) reach the model at its next step. The first ask may start the server.
 */
export interface LiveToolGroup {
  /**
   * The tools now, the same array while they have not changed. Throws with a message for the
   * persona and the operator (what failed, what to fix) when they cannot be had; the persona's
   * other tools keep working.
   */
  tools(ctx: ToolContext): Promise<PantheonTool[]>;
}
