import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ErrorCode, McpError, ToolListChangedNotificationSchema, type ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { loadMcpTools } from '@langchain/mcp-adapters';
import type { McpServerConfig } from '../../core/config/mcp.js';
import type { Logger } from '../../core/log.js';
import { scrubSecrets } from '../../core/log.js';
import { planTransport, type TransportDeps, type TransportPlan } from './transport.js';
import type { McpCallResult } from './result.js';

/** How long a server must stay up after starting for its next crash to restart it at once. */
const STABLE_MS = 30_000;
/** The longest wait between attempts to start a server that keeps failing. */
const MAX_BACKOFF_MS = 60_000;
/** A call finding its server restarting waits this long for it before giving up. */
const WAIT_FOR_RESTART_MS = 5_000;
const CONNECT_TIMEOUT_MS = 30_000;
/** Characters of a stdio server's standard error kept for the message when it fails. */
const STDERR_TAIL = 2000;

export interface McpConnectionDeps extends TransportDeps {
  logger: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
  /** Pantheon's version, sent as the client's. */
  version: string;
}

/** One tool as a server lists it, its input schema made fit for the model APIs. */
export interface McpToolInfo {
  name: string;
  description: string;
  /** JSON Schema with `$ref`s inlined and `allOf`/`anyOf`/`oneOf` flattened (which some providers refuse). */
  inputSchema: Record<string, unknown>;
  annotations?: ToolAnnotations;
}

/** The tools a server listed, and which listing this is (a new one after `tools/list_changed` or a restart). */
export interface McpToolListing {
  tools: McpToolInfo[];
  version: number;
}

/**
 * One MCP server, as Pantheon uses it: started when first needed (a persona's model step asks for
 * its tools), restarted when it crashes (at once the first time, then after 1, 2, 4... up to 60 s
 * while it keeps failing), its tool list fetched again when it says the list changed. A server
 * that cannot be started says why in the log and to whoever asked; nothing else waits for it.
 */
export class McpConnection {
  private client?: Client;
  private plan?: TransportPlan;
  private starting?: Promise<Client>;
  private listing?: Promise<McpToolListing>;
  private known?: McpToolListing;
  private version = 0;
  private failures = 0;
  private retryAt = 0;
  private startedAt = 0;
  private lastError?: string;
  private restartTimer?: NodeJS.Timeout;
  private stderrTail = '';
  private closed = false;

  constructor(
    readonly name: string,
    readonly config: McpServerConfig,
    private readonly deps: McpConnectionDeps,
  ) {}

  /** The server's process id while a stdio server runs. */
  pid(): number | undefined {
    return this.plan?.pid?.() ?? undefined;
  }

  /** The server's tools, starting it if needed. While it restarts, the last list it gave. */
  async tools(): Promise<McpToolListing> {
    try {
      const client = await this.ready();
      if (!this.listing) {
        const version = this.version;
        const fetching = listAll(this.name, client).then((tools) => (this.known = { tools, version }));
        this.listing = fetching;
        fetching.catch(() => {
          if (this.listing === fetching) this.listing = undefined;
        });
      }
      return await this.listing;
    } catch (err) {
      if (this.known && !this.closed) return this.known;
      throw err;
    }
  }

  /** Calls one tool; rejects with a message naming the server when it cannot (down, timed out). */
  async call(tool: string, args: Record<string, unknown>, timeoutMs: number): Promise<McpCallResult> {
    const client = await this.ready();
    try {
      return (await client.callTool({ name: tool, arguments: args }, undefined, { timeout: timeoutMs })) as McpCallResult;
    } catch (err) {
      if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) {
        throw new Error(`${tool} on the MCP server "${this.name}" did not answer within ${Math.round(timeoutMs / 1000)} s`);
      }
      // A protocol error is the server's answer; anything else lost the connection, and the next call starts afresh.
      if (!(err instanceof McpError) || err.code === ErrorCode.ConnectionClosed) this.lost(client, err);
      throw new Error(`the MCP server "${this.name}" failed: ${message(err)}`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    const client = this.client;
    this.client = undefined;
    await this.starting?.catch(() => {});
    await (client ?? this.client)?.close().catch(() => {});
  }

  /** A connected client: now, after the restart under way, or after starting the server. */
  private async ready(): Promise<Client> {
    if (this.closed) throw new Error(`the MCP server "${this.name}" is stopped (Pantheon is shutting down)`);
    if (this.client) return this.client;
    if (this.starting) return this.starting;
    const wait = this.retryAt - Date.now();
    if (wait > WAIT_FOR_RESTART_MS) {
      throw new Error(`the MCP server "${this.name}" is down (${this.lastError ?? 'it stopped'}); Pantheon tries to start it again in ${Math.ceil(wait / 1000)} s`);
    }
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    return this.start();
  }

  private start(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    if (this.starting) return this.starting;
    clearTimeout(this.restartTimer);
    const starting = this.connect().finally(() => {
      if (this.starting === starting) this.starting = undefined;
    });
    this.starting = starting;
    return starting;
  }

  private async connect(): Promise<Client> {
    try {
      let plan = await planTransport(this.name, this.config, this.deps);
      let client = this.newClient();
      try {
        await this.open(client, plan);
      } catch (err) {
        if (!plan.fallback) throw err;
        // `auto`: a server that does not speak streamable HTTP may speak the older SSE transport.
        this.deps.logger.debug({ mcpServer: this.name, err: message(err) }, 'MCP server refused streamable HTTP; trying SSE');
        await client.close().catch(() => {});
        plan = plan.fallback();
        client = this.newClient();
        await this.open(client, plan);
      }
      if (this.closed) {
        await client.close().catch(() => {});
        throw new Error(`the MCP server "${this.name}" is stopped (Pantheon is shutting down)`);
      }
      this.plan = plan;
      this.client = client;
      this.startedAt = Date.now();
      this.listing = undefined;
      this.version++;
      this.deps.logger.info({ mcpServer: this.name, pid: plan.pid?.() ?? undefined, transport: this.config.kind }, 'MCP server started');
      return client;
    } catch (err) {
      this.failures++;
      const delay = backoff(this.failures);
      this.retryAt = Date.now() + delay;
      const why = scrubSecrets(`${message(err)}${this.stderrTail.trim() ? `; its last output: ${this.stderrTail.trim().slice(-500)}` : ''}`);
      this.lastError = why;
      this.deps.logger.error({ mcpServer: this.name, failures: this.failures, retryInMs: delay }, `MCP server "${this.name}" could not be started: ${why}`);
      if (this.known && !this.closed) this.scheduleRestart(delay);
      throw new Error(`the MCP server "${this.name}" could not be started: ${why}`);
    }
  }

  private newClient(): Client {
    const client = new Client({ name: 'pantheon', version: this.deps.version }, { capabilities: {} });
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      if (this.client !== client) return;
      this.version++;
      this.listing = undefined;
      this.deps.logger.info({ mcpServer: this.name }, 'MCP server changed its tools');
    });
    return client;
  }

  private async open(client: Client, plan: TransportPlan): Promise<void> {
    this.stderrTail = '';
    plan.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-STDERR_TAIL);
    });
    client.onclose = () => this.lost(client, new Error('its connection closed'));
    await client.connect(plan.transport, { timeout: CONNECT_TIMEOUT_MS });
  }

  /** The connection is gone (the process died, the HTTP session ended): restart, with backoff if it keeps happening. */
  private lost(client: Client, err: unknown): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.listing = undefined;
    void client.close().catch(() => {});
    if (this.closed) return;
    // A server that ran for a while restarts at once; one that keeps dying waits longer each time.
    this.failures = Date.now() - this.startedAt >= STABLE_MS ? 0 : this.failures + 1;
    const delay = backoff(this.failures);
    this.retryAt = Date.now() + delay;
    this.lastError = `it stopped: ${message(err)}${this.stderrTail.trim() ? `; its last output: ${this.stderrTail.trim().slice(-500)}` : ''}`;
    this.deps.logger.warn({ mcpServer: this.name, retryInMs: delay }, `MCP server "${this.name}" stopped (${scrubSecrets(message(err))}); restarting it`);
    this.scheduleRestart(delay);
  }

  private scheduleRestart(delay: number): void {
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => void this.start().catch(() => {}), delay);
    this.restartTimer.unref();
  }
}

/** 0 after a server that ran a while; then 1, 2, 4... s, at most a minute. */
function backoff(failures: number): number {
  return failures <= 0 ? 0 : Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (failures - 1));
}

/**
 * Every tool of the server (all pages). @langchain/mcp-adapters lists them and prepares their
 * schemas for the model APIs; its LangChain tools themselves are not used, since every call must
 * go through Pantheon's guard (tools.ts runs them through this connection).
 */
async function listAll(name: string, client: Client): Promise<McpToolInfo[]> {
  const tools = await loadMcpTools(name, client, { throwOnLoadError: false, prefixToolNameWithServerName: false, additionalToolNamePrefix: '' });
  return tools.map((t) => ({
    name: t.name,
    description: t.description,
    inputSchema: t.schema as Record<string, unknown>,
    annotations: (t.metadata as { annotations?: ToolAnnotations } | undefined)?.annotations,
  }));
}

function message(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}
