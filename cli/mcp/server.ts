import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { TEAM_TOOLS, type TeamPort } from './team-tools.js';

/** An MCP server exposing the team (team-tools.ts) over whatever transport it is connected to. */
export function teamMcpServer(port: TeamPort, version: string): Server {
  const server = new Server(
    { name: 'pantheon', version },
    { capabilities: { tools: {} }, instructions: 'Pantheon: a team of AI personas. Ask a persona with ask_persona; approvals are for humans in chat.' },
  );
  const tools = TEAM_TOOLS.map((t) => ({
    name: t.name,
    description: t.description,
    inputSchema: z.toJSONSchema(t.args, { io: 'input' }) as { type: 'object'; properties?: Record<string, object> },
    annotations: { readOnlyHint: t.readOnly, destructiveHint: false, openWorldHint: false },
  }));
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const tool = TEAM_TOOLS.find((t) => t.name === request.params.name);
    if (!tool) return failure(`no tool named ${request.params.name}; the tools are ${TEAM_TOOLS.map((t) => t.name).join(', ')}`);
    const parsed = tool.args.safeParse(request.params.arguments ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return failure(`${issue.path.join('.') || 'arguments'}: ${issue.message}`);
    }
    try {
      return { content: [{ type: 'text', text: await tool.run(port, parsed.data as Record<string, unknown>) }] };
    } catch (err) {
      return failure((err as Error)?.message ?? String(err));
    }
  });
  return server;
}

function failure(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}
