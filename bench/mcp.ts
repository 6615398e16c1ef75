/**
 * What Pantheon adds to an MCP tool call (issue 19): a persona's call of `echo` on
 * @modelcontextprotocol/server-everything (stdio) through everything Pantheon puts around it (the
 * LangChain tool and its schema check, the guard: policy, audit insert; the result's cut and
 * fence), against the same call made directly with the SDK's client on a second instance of the
 * same server. Calls alternate, in the same run; the figure is the difference of the medians.
 *
 *   node --import tsx bench/mcp.ts                  # embedded database (PGlite): the audit insert included
 *   node --import tsx bench/mcp.ts --postgres-redis # DATABASE_URL (default local test PG) + REDIS_URL
 *   options: --iterations N (default 500)
 */
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { withRun } from '../agents/run-context.js';
import { startPantheon } from '../cli/app.js';
import { createLogger } from '../core/log.js';
import { ToolGuard } from '../tools/guard.js';
import { toLangChainTool } from '../tools/langchain.js';
import { McpConnection } from '../tools/mcp/connection.js';
import { mcpToolGroup } from '../tools/mcp/tools.js';
import { resolveSandbox } from '../tools/sandbox/resolve.js';
import { benchEnvironment } from './support/external.js';
import { InstantChatModel } from './support/instant-model.js';
import { fmt, percentile } from './stats.js';

const args = process.argv.slice(2);
const option = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const iterations = option('--iterations', 500);
const external = args.includes('--postgres-redis');
const SERVER = join(import.meta.dirname, '..', 'node_modules', '.bin', 'mcp-server-everything');

async function main() {
  const { dataDir, env, cleanup } = await benchEnvironment('mcp', external);
  const app = await startPantheon({ dataDir, port: 0, host: '127.0.0.1', env, logger: createLogger({ level: 'warn' }), modelFor: () => new InstantChatModel({}) });
  const logger = createLogger({ level: 'warn' });
  const connection = new McpConnection(
    'everything',
    { kind: 'stdio', command: SERVER, args: ['stdio'], env: {}, sandbox: false, readOnlyPaths: [], risk: {}, timeoutSeconds: 60, maxOutputChars: 20_000 },
    { logger, dataDir, version: 'bench', sandbox: () => resolveSandbox(app.loaded.config.sandbox, { dataDir }) },
  );
  const guard = new ToolGuard({
    policy: { ...app.loaded.config.policy, tools: { mcp__everything__echo: 'allow' } },
    approvals: { hasApprovers: () => false } as never,
    audit: app.team.audit,
    logger,
  });
  // The same path without the audit write: says how much of the figure is the database round trip.
  const unaudited = new ToolGuard({ policy: { ...app.loaded.config.policy, tools: { mcp__everything__echo: 'allow' } }, approvals: { hasApprovers: () => false } as never, logger });
  const tools = await mcpToolGroup(connection).tools({} as never);
  const echo = tools.find((t) => t.name === 'mcp__everything__echo');
  if (!echo) throw new Error(`server-everything has no echo tool: ${tools.map((t) => t.name).join(', ')}`);
  const lcEcho: StructuredToolInterface = toLangChainTool(echo, guard, 'apollo');
  const lcUnaudited: StructuredToolInterface = toLangChainTool(echo, unaudited, 'apollo');

  const direct = new Client({ name: 'bench', version: '1' }, { capabilities: {} });
  await direct.connect(new StdioClientTransport({ command: SERVER, args: ['stdio'], stderr: 'ignore' }));

  let n = 0;
  const viaPantheon = async (tool = lcEcho) => {
    const id = `call_${++n}`;
    const t0 = performance.now();
    const out = await withRun({ runId: 'bench-run', persona: 'apollo' }, () =>
      tool.invoke({ id, name: echo.name, args: { message: 'ping' }, type: 'tool_call' }, {
        toolCall: { id, name: echo.name, args: { message: 'ping' } },
        configurable: { thread_id: 'local:bench' },
      } as never),
    );
    const ms = performance.now() - t0;
    if (!JSON.stringify(out).includes('ping')) throw new Error(`unexpected result through Pantheon: ${JSON.stringify(out)}`);
    return ms;
  };
  const viaSdk = async () => {
    const t0 = performance.now();
    const out = await direct.callTool({ name: 'echo', arguments: { message: 'ping' } });
    const ms = performance.now() - t0;
    if (!JSON.stringify(out).includes('ping')) throw new Error(`unexpected result from the SDK: ${JSON.stringify(out)}`);
    return ms;
  };

  for (let i = 0; i < 50; i++) {
    await viaPantheon();
    await viaSdk();
  }
  const pantheon: number[] = [];
  const sdk: number[] = [];
  const noAudit: number[] = [];
  for (let i = 0; i < iterations; i++) {
    // Rotate which goes first, so none always runs on a warmer machine.
    const round = [() => viaPantheon().then((ms) => pantheon.push(ms)), () => viaSdk().then((ms) => sdk.push(ms)), () => viaPantheon(lcUnaudited).then((ms) => noAudit.push(ms))];
    for (let k = 0; k < round.length; k++) await round[(i + k) % round.length]!();
  }
  const p50 = (v: number[]) => percentile(v, 50);
  console.log(`MCP tool call (server-everything echo over stdio), ${iterations} calls each, ${external ? 'Postgres' : 'PGlite'} audit:`);
  console.log(`  direct SDK client     p50 ${fmt(p50(sdk))} ms   p90 ${fmt(percentile(sdk, 90))} ms`);
  console.log(`  through Pantheon      p50 ${fmt(p50(pantheon))} ms   p90 ${fmt(percentile(pantheon, 90))} ms`);
  console.log(`  added by Pantheon     p50 ${fmt(p50(pantheon) - p50(sdk))} ms (target < 5 ms)`);
  console.log(`  the same without the audit write: p50 ${fmt(p50(noAudit))} ms, ${fmt(p50(noAudit) - p50(sdk))} ms added`);
  await direct.close();
  await connection.close();
  await app.stop();
  await cleanup();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
