/**
 * A small stdio MCP server whose tool list changes: `add_tool` registers `extra`, and the SDK's
 * McpServer tells the client with `notifications/tools/list_changed`. For the client's
 * lifecycle tests (server-everything's tools never change). `inspect` tells what the server can see
 * of its host (its pid, environment, processes, and whether given paths exist): the sandbox test.
 *
 *   node --import tsx test/fakes/mcp/changing-tools.ts
 */
import { existsSync, readdirSync } from 'node:fs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'changing-tools', version: '1.0.0' });
server.registerTool('add_tool', { description: 'Adds the tool "extra".' }, async () => {
  server.registerTool('extra', { description: 'Says it is extra.', annotations: { readOnlyHint: true } }, async () => ({ content: [{ type: 'text', text: 'I am extra' }] }));
  return { content: [{ type: 'text', text: 'added' }] };
});
server.registerTool('slow', { description: 'Answers after 5 s.' }, async () => {
  await new Promise((r) => setTimeout(r, 5000));
  return { content: [{ type: 'text', text: 'late' }] };
});
server.registerTool('inspect', { description: 'What this process sees of its host.', inputSchema: { paths: z.array(z.string()) } }, async ({ paths }) => {
  const processes = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
  const seen = { pid: process.pid, env: Object.keys(process.env).sort(), processes, exists: Object.fromEntries(paths.map((p) => [p, existsSync(p)])) };
  return { content: [{ type: 'text', text: JSON.stringify(seen) }] };
});
await server.connect(new StdioServerTransport());
