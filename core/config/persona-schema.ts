import { z } from 'zod';
import { nonNegative, positiveInt, text } from './coerce.js';
import { handlesSchema } from './platforms.js';
import { partialPolicySchema } from './policy.js';
import { contextSchema, modelNameSchema, SANDBOX_NETWORKS } from './schema.js';

/**
 * A persona is data: one YAML file describing an agent's identity (its handle on each chat
 * platform, its GitHub account), its job (role, lens, prompt) and its powers (tools, policy,
 * budget). The runtime builds an agent from it; nothing about a persona lives in code.
 */

const PERSONA_ID = /^[a-z][a-z0-9-]*$/;
const ROLES = ['pm', 'developer', 'reviewer', 'ops', 'custom'] as const;

/** Tool groups a persona can be granted; each maps to a tool factory under tools/. */
const TOOL_GROUPS = ['github', 'workspace', 'memory', 'handoff', 'infra', 'chat'] as const;
/** A built-in group, or `mcp:<server>`: the tools of an MCP server configured under `mcp.servers` in pantheon.yaml. */
export type ToolGroup = (typeof TOOL_GROUPS)[number] | `mcp:${string}`;
const toolGroupSchema = z.union(
  [
    z.enum(TOOL_GROUPS),
    z
      .string()
      .regex(/^mcp:[a-z0-9][a-z0-9-]*$/)
      .transform((group) => group as `mcp:${string}`),
  ],
  {
    error: `expected one of ${TOOL_GROUPS.join(', ')}, or "mcp:<server>" naming a server of mcp.servers in pantheon.yaml`,
  },
);

export const personaSchema = z.strictObject({
  id: z.string().regex(PERSONA_ID, 'expected lowercase letters, digits and "-", starting with a letter (e.g. "apollo")'),
  name: text(),
  role: z.enum(ROLES),
  description: text(),
  model: modelNameSchema.optional(),
  fallbackModels: z.array(modelNameSchema).optional(),
  /** What a reviewer looks for (e.g. "security"); free text, shown in the prompt. */
  lens: text().optional(),
  tools: z
    .array(toolGroupSchema)
    .default([])
    .transform((tools) => [...new Set(tools)]),
  prompt: text(),
  /**
   * One bot account per platform, each platform's own shape (its `platform.ts`). A handle whose
   * tokens all come from unset variables is dropped while loading, so the sample team runs with
   * no tokens configured at all.
   */
  handles: z.lazy(handlesSchema).default({}),
  github: z.strictObject({ login: text(), token: text().optional() }).optional(),
  /** Overrides of the team policy for this persona only. */
  policy: partialPolicySchema.optional(),
  /** This persona's commands: `network: none` keeps them offline where the team allows egress (or the reverse). */
  sandbox: z.strictObject({ network: z.enum(SANDBOX_NETWORKS).optional() }).optional(),
  budget: z.strictObject({ dailyTokens: positiveInt().optional(), dailyUsd: nonNegative().optional() }).optional(),
  /** This persona's history budget, over `orchestrator.context`. */
  context: contextSchema.optional(),
  /**
   * A reasoning model's thinking: Anthropic extended thinking (`budgetTokens`, at least 1024) or
   * OpenAI's reasoning effort. Thinking is kept in the conversation as the APIs require across tool
   * calls and never posted as the answer, unless `show: true`.
   */
  reasoning: z
    .strictObject({
      effort: z.enum(['minimal', 'low', 'medium', 'high']).optional(),
      budgetTokens: positiveInt().pipe(z.number().min(1024, 'Anthropic needs a thinking budget of at least 1024 tokens')).optional(),
      show: z.boolean().default(false),
      /** OpenAI-type providers: `responses` (reasoning items kept across tool calls; the default for OpenAI's o-series and gpt-5) or `chat` (Chat Completions). */
      api: z.enum(['responses', 'chat']).optional(),
    })
    .optional(),
});

export type Persona = z.output<typeof personaSchema>;
