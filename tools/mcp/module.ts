import { MCP_GROUP_PREFIX } from '../../core/config/mcp.js';
import type { ModuleFactory, PantheonModule } from '../../core/modules/types.js';
import { pantheonVersion } from '../../core/package-root.js';
import { resolveSandbox, type ResolvedSandbox } from '../sandbox/resolve.js';
import type { LiveToolGroup } from '../types.js';
import { McpConnection } from './connection.js';
import { mcpToolGroup } from './tools.js';

/**
 * The MCP servers of `mcp.servers`: one connection each, shared by the personas that list the
 * server (`tools: ["mcp:<name>"]`). Nothing starts here: a server starts when a persona first
 * needs its tools, and is stopped with Pantheon.
 */
export const mcpModule: ModuleFactory = (ctx): PantheonModule | null => {
  const servers = Object.entries(ctx.loaded.config.mcp.servers);
  if (!servers.length) return null;
  const logger = ctx.logger.child({ module: 'mcp' });
  let sandbox: Promise<ResolvedSandbox> | undefined;
  const deps = {
    logger,
    dataDir: ctx.dataDir,
    version: pantheonVersion(),
    sandbox: () => (sandbox ??= resolveSandbox(ctx.loaded.config.sandbox, { dataDir: ctx.dataDir })),
  };
  const connections = servers.map(([name, config]) => new McpConnection(name, config, deps));
  const liveToolGroups: Record<string, LiveToolGroup> = Object.fromEntries(connections.map((c) => [`${MCP_GROUP_PREFIX}${c.name}`, mcpToolGroup(c)]));
  return {
    name: 'mcp',
    liveToolGroups,
    async stop() {
      await Promise.all(connections.map((c) => c.close()));
    },
  };
};
