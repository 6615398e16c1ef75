import { z } from 'zod';
import type { RiskClass } from '../../core/config/policy.js';
import type { LiveToolGroup, PantheonTool } from '../types.js';
import type { McpConnection, McpToolInfo } from './connection.js';
import { mcpToolNames } from './names.js';
import { formatMcpResult, MCP_UNTRUSTED_NOTE } from './result.js';

/** Longest tool description passed on: the server wrote it, and it goes into every model call. */
const MAX_DESCRIPTION = 1000;

/** The arguments of an MCP tool, as `run` receives them (checked against the server's JSON Schema before). */
const argsSchema = z.record(z.string(), z.unknown());

/**
 * The risk of an MCP tool: its configured override, else what its annotations say
 * (`readOnlyHint` → read, `destructiveHint` → destructive), else write. (The MCP spec's default
 * for a tool with neither hint is "may be destructive"; Pantheon treats it as a write, and the
 * operator raises a tool to destructive in config.)
 */
export function mcpToolRisk(tool: Pick<McpToolInfo, 'name' | 'annotations'>, overrides: Readonly<Record<string, RiskClass>>): RiskClass {
  if (Object.hasOwn(overrides, tool.name)) return overrides[tool.name]!;
  if (tool.annotations?.readOnlyHint === true) return 'read';
  if (tool.annotations?.destructiveHint === true) return 'destructive';
  return 'write';
}

/**
 * An MCP server's tools as Pantheon tools: named `mcp__<server>__<tool>`, risk from their
 * annotations or the config, each call through the connection with the configured timeout, the
 * result cut and fenced as untrusted. The guard runs every call (policy, approvals, audit): these
 * tools are wrapped like any other by the persona's tool adapter.
 */
export function mcpToolGroup(connection: McpConnection): LiveToolGroup {
  const { name: server, config } = connection;
  let cached: { version: number; tools: PantheonTool[] } | undefined;
  return {
    async tools() {
      const listing = await connection.tools();
      if (cached?.version === listing.version) return cached.tools;
      const names = mcpToolNames(
        server,
        listing.tools.map((t) => t.name),
      );
      const tools = listing.tools.map((t) => toPantheonTool(connection, t, names.get(t.name)!));
      cached = { version: listing.version, tools };
      return tools;
    },
  };

  function toPantheonTool(conn: McpConnection, tool: McpToolInfo, name: string): PantheonTool<typeof argsSchema> {
    const described = (tool.description || tool.annotations?.title || '').trim();
    const description = `[MCP server ${server}, tool ${tool.name}] ${described.length > MAX_DESCRIPTION ? `${described.slice(0, MAX_DESCRIPTION - 1)}…` : described} ${MCP_UNTRUSTED_NOTE}`;
    return {
      name,
      description,
      risk: mcpToolRisk(tool, config.risk),
      schema: argsSchema,
      jsonSchema: tool.inputSchema,
      // Approvers see which server and which of its tools, besides the arguments.
      describeCall: () => ({ mcpServer: server, mcpTool: tool.name }),
      run: async (args) => formatMcpResult(await conn.call(tool.name, args ?? {}, config.timeoutSeconds * 1000), `${server}/${tool.name}`, config.maxOutputChars),
    };
  }
}
