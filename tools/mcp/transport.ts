import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { McpHttpServerConfig, McpServerConfig, McpStdioServerConfig } from '../../core/config/mcp.js';
import type { ResolvedSandbox } from '../sandbox/resolve.js';

/** What starting a server's transport needs besides its configuration. */
export interface TransportDeps {
  /** The sandbox of `sandbox:` in pantheon.yaml, resolved once when a server first needs it. */
  sandbox: () => Promise<ResolvedSandbox>;
  /** The data dir: a sandboxed server's private directory and HOME are under it. */
  dataDir: string;
}

/** A transport to try, and for `auto` HTTP, the one to try next when the server refuses the first. */
export interface TransportPlan {
  transport: Transport;
  /** The server's process id (stdio), for the log and for tests that stop it. */
  pid?: () => number | null | undefined;
  /** Its standard error, when it has one. */
  stderr?: NodeJS.ReadableStream | null;
  fallback?: () => TransportPlan;
}

/**
 * The environment of a stdio server: the few variables any program needs to run (the SDK's
 * default set: PATH, HOME, USER, LOGNAME, SHELL, TERM) and what its configuration gives it.
 * Nothing else of Pantheon's: no model keys, tokens or database URLs.
 */
function stdioEnvironment(config: Pick<McpStdioServerConfig, 'env'>): Record<string, string> {
  return { ...getDefaultEnvironment(), ...config.env };
}

export async function planTransport(name: string, config: McpServerConfig, deps: TransportDeps): Promise<TransportPlan> {
  return config.kind === 'stdio' ? planStdio(name, config, deps) : planHttp(config);
}

async function planStdio(name: string, config: McpStdioServerConfig, deps: TransportDeps): Promise<TransportPlan> {
  let command = config.command;
  let args = config.args;
  const env = stdioEnvironment(config);
  let cwd = config.cwd ? resolve(config.cwd) : undefined;
  if (config.sandbox) {
    const { sandbox, problem } = await deps.sandbox();
    if (!sandbox) throw new Error(`it is configured with sandbox: true and no sandbox can run it here: ${problem?.message ?? 'no sandbox backend works on this host'}`);
    const home = join(deps.dataDir, 'mcp', name, 'home');
    const workspace = join(deps.dataDir, 'mcp', name, 'work');
    await mkdir(home, { recursive: true });
    await mkdir(workspace, { recursive: true });
    const wrapped = await sandbox.passthrough({ argv: [command, ...args], workspace, cwd: workspace, home, env: config.env, readOnly: [...config.readOnlyPaths, ...(cwd ? [cwd] : [])] });
    [command, ...args] = wrapped.argv as [string, ...string[]];
    cwd = workspace;
  }
  const transport = new StdioClientTransport({ command, args, env, cwd, stderr: 'pipe' });
  return { transport, pid: () => transport.pid, stderr: transport.stderr as NodeJS.ReadableStream | null };
}

function planHttp(config: McpHttpServerConfig): TransportPlan {
  const url = new URL(config.url);
  const requestInit = { headers: config.headers };
  const sse = (): TransportPlan => ({
    transport: new SSEClientTransport(url, {
      requestInit,
      // The event stream's own request carries the headers too (authentication).
      eventSourceInit: { fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...config.headers } }) },
    }),
  });
  if (config.transport === 'sse') return sse();
  const streamable: TransportPlan = { transport: new StreamableHTTPClientTransport(url, { requestInit }) };
  return config.transport === 'auto' ? { ...streamable, fallback: sse } : streamable;
}
