import type { FastifyInstance, FastifyReply } from 'fastify';
import { pantheonVersion } from '../../core/package-root.js';
import type { TeamPort } from './team-tools.js';

/** Where the team's MCP server answers on Pantheon's HTTP server. */
export const MCP_PATH = '/mcp';

/**
 * `POST /mcp`: the team as an MCP server over streamable HTTP, stateless (each request its own
 * server and transport, so any replica answers any request). Behind the API bearer token like
 * every route that is not explicitly public; `pantheon mcp` bridges a stdio client to it. The MCP
 * SDK is loaded on the first request, not at start.
 */
export function registerMcpRoute(http: FastifyInstance, port: TeamPort): void {
  let sdk: Promise<[typeof import('./server.js'), typeof import('@modelcontextprotocol/sdk/server/streamableHttp.js')]> | undefined;
  http.post(MCP_PATH, async (req, reply) => {
    const [{ teamMcpServer }, { StreamableHTTPServerTransport }] = await (sdk ??= Promise.all([import('./server.js'), import('@modelcontextprotocol/sdk/server/streamableHttp.js')]));
    const mcp = teamMcpServer(port, pantheonVersion());
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    reply.hijack();
    reply.raw.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req.raw, reply.raw, req.body);
  });
  // Stateless: no server-initiated stream to open, no session to end.
  const notAllowed = async (_req: unknown, reply: FastifyReply) =>
    reply
      .code(405)
      .header('allow', 'POST')
      .send({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this MCP endpoint is stateless; POST requests only' }, id: null });
  http.get(MCP_PATH, notAllowed);
  http.delete(MCP_PATH, notAllowed);
}
