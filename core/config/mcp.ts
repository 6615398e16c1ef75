import { z } from 'zod';
import { boolean, httpUrl, positiveInt, text } from './coerce.js';

/**
 * `mcp:` in pantheon.yaml: the MCP servers personas may use (tools/mcp/). A server with `command`
 * is started as a child process speaking MCP on its standard input and output; one with `url` is
 * reached over streamable HTTP (falling back to the older SSE transport). A persona lists the ones
 * it uses as `mcp:<name>` tool groups; docs/mcp.md explains naming, risk and policy.
 */

/** Server names become part of tool names (`mcp__<server>__<tool>`): no `_`, so the name is unambiguous. */
const SERVER_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const RISKS = ['read', 'write', 'destructive', 'infra'] as const;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const common = {
  /** The risk of a tool by its name on the server, over what its annotations say (`readOnlyHint` → read, `destructiveHint` → destructive, else write). */
  risk: z.record(z.string(), z.enum(RISKS)).default({}),
  /** How long one tool call may take before the persona is told it timed out. */
  timeoutSeconds: positiveInt().default(60),
  /** Characters of a tool's result handed to the model; the rest is cut (and the model told). */
  maxOutputChars: positiveInt().default(20_000),
};

const stdioServerSchema = z.strictObject({
  kind: z.literal('stdio'),
  command: text(),
  args: z.array(z.string()).default([]),
  /** The server's whole environment besides PATH, HOME, USER, LOGNAME, SHELL and TERM: nothing else of Pantheon's reaches it. */
  env: z.record(z.string().regex(ENV_NAME, 'expected an environment variable name'), z.string()).default({}),
  cwd: text().optional(),
  /** Run the server in the sandbox personas' commands run in (tools/sandbox): no network, nothing of Pantheon's visible. */
  sandbox: boolean().default(false),
  /** With `sandbox: true`: further host paths the server may read (its own installation, when outside the system directories). */
  readOnlyPaths: z.array(text()).default([]),
  ...common,
});

const httpServerSchema = z.strictObject({
  kind: z.literal('http'),
  url: httpUrl(),
  /** Sent with every request, e.g. `Authorization: Bearer ${DOCS_TOKEN}`. */
  headers: z.record(z.string(), z.string()).default({}),
  /** `auto`: streamable HTTP, and the older SSE transport when the server does not speak it. */
  transport: z.enum(['auto', 'streamable-http', 'sse']).default('auto'),
  ...common,
});

/** `url:` makes an HTTP server, anything else a stdio one (whose `command` is then required). */
const serverSchema = z.preprocess(
  (v) => (v && typeof v === 'object' && !Array.isArray(v) && !('kind' in v) ? { kind: 'url' in v && !('command' in v) ? 'http' : 'stdio', ...v } : v),
  z.discriminatedUnion('kind', [stdioServerSchema, httpServerSchema]),
);

export const mcpSchema = z.strictObject({
  servers: z
    .record(z.string(), serverSchema)
    .superRefine((servers, ctx) => {
      for (const name of Object.keys(servers)) {
        if (!SERVER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'an MCP server name is lowercase letters, digits and "-" (at most 32), e.g. "docs"' });
      }
    })
    .default({}),
});

export type McpServerConfig = z.output<typeof mcpSchema>['servers'][string];
export type McpStdioServerConfig = Extract<McpServerConfig, { kind: 'stdio' }>;
export type McpHttpServerConfig = Extract<McpServerConfig, { kind: 'http' }>;

/** The tool group naming an MCP server in a persona file (`tools: ["mcp:docs"]`). */
export const MCP_GROUP_PREFIX = 'mcp:';
export const mcpGroupServer = (group: string): string | undefined => (group.startsWith(MCP_GROUP_PREFIX) ? group.slice(MCP_GROUP_PREFIX.length) : undefined);
