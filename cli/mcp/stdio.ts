import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { findServer, type ReadSourceOptions } from '../audit.js';
import { CommandError } from '../command-error.js';
import { authorization } from '../server-token.js';
import { MCP_PATH } from './http-route.js';

/**
 * `pantheon mcp`: the team as an MCP server on standard input and output, for clients that start
 * their servers as commands (Claude Desktop, Claude Code, Cursor). It relays every message to the
 * running server's `/mcp` endpoint with the API token, so the team answers from where it runs.
 */
export async function mcpStdioCommand(opts: ReadSourceOptions): Promise<void> {
  const base = await findServer(opts);
  if (!base) throw new CommandError('no running Pantheon found: start one with `pantheon start`, or give its address with --url (or PANTHEON_URL)');
  // Said now, in one line, rather than as an error on the client's first request.
  const health = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5000) }).catch((err: Error & { cause?: Error }) => err.cause?.message ?? err.message);
  if (typeof health === 'string') throw new CommandError(`cannot reach Pantheon at ${base} (${health}); is \`pantheon start\` running?`);
  await health.body?.cancel();
  const upstream = new StreamableHTTPClientTransport(new URL(`${base}${MCP_PATH}`), { requestInit: { headers: authorization() } });
  const local = new StdioServerTransport();
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    await Promise.allSettled([upstream.close(), local.close()]);
  };
  local.onmessage = (message: JSONRPCMessage) => {
    upstream.send(message).catch((err: Error) => {
      // A request that could not be relayed still gets its answer: the client is told why.
      const id = (message as { id?: string | number }).id;
      if (id !== undefined) void local.send({ jsonrpc: '2.0', id, error: { code: -32000, message: `Pantheon at ${base} did not take the request: ${err.message}` } });
      process.stderr.write(`pantheon mcp: ${err.message}\n`);
    });
  };
  upstream.onmessage = (message) => void local.send(message);
  upstream.onerror = (err) => process.stderr.write(`pantheon mcp: ${err.message}\n`);
  local.onclose = () => void close();
  await upstream.start();
  await local.start();
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.stdin.once('end', done);
    process.stdin.once('close', done);
  });
  await close();
}
