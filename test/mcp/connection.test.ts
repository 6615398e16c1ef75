import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { McpServerConfig } from '../../core/config/mcp.js';
import { McpConnection } from '../../tools/mcp/connection.js';
import { REPO_ROOT } from '../support/pantheon-process.js';

const FAKE = join(REPO_ROOT, 'test', 'fakes', 'mcp', 'changing-tools.ts');
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const deps = { logger: quiet, dataDir: '/nonexistent', version: 'test', sandbox: async () => ({ warnings: [] }) };
const stdio = (command: string, args: string[], extra: Partial<McpServerConfig> = {}): McpServerConfig =>
  ({ kind: 'stdio', command, args, env: {}, sandbox: false, readOnlyPaths: [], risk: {}, timeoutSeconds: 60, maxOutputChars: 20_000, cwd: REPO_ROOT, ...extra }) as McpServerConfig;

const open: McpConnection[] = [];
after(async () => {
  await Promise.all(open.map((c) => c.close()));
});
const connect = (name: string, config: McpServerConfig) => {
  const c = new McpConnection(name, config, deps);
  open.push(c);
  return c;
};

describe('an MCP server connection', () => {
  it('starts when first asked, honours tools/list_changed, and restarts after the process is killed', async () => {
    const conn = connect('fake', stdio(process.execPath, ['--import', 'tsx', FAKE]));
    assert.equal(conn.pid(), undefined, 'nothing runs before it is needed');
    const first = await conn.tools();
    assert.deepEqual(first.tools.map((t) => t.name).sort(), ['add_tool', 'slow']);
    const pid = conn.pid()!;
    assert.ok(pid);

    await conn.call('add_tool', {}, 10_000);
    let changed = await conn.tools();
    for (let i = 0; i < 50 && changed.version === first.version; i++) {
      await new Promise((r) => setTimeout(r, 20));
      changed = await conn.tools();
    }
    assert.notEqual(changed.version, first.version, 'a new listing after list_changed');
    assert.ok(changed.tools.some((t) => t.name === 'extra' && t.annotations?.readOnlyHint === true));

    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && conn.pid() === pid; i++) await new Promise((r) => setTimeout(r, 20));
    const result = await conn.call('add_tool', {}, 10_000);
    assert.match(JSON.stringify(result), /added/);
    assert.notEqual(conn.pid(), pid, 'a new process');
  });

  it('a call that takes longer than its timeout is refused with a message naming the tool and the server', async () => {
    const conn = connect('slowpoke', stdio(process.execPath, ['--import', 'tsx', FAKE]));
    await assert.rejects(conn.call('slow', {}, 300), /slow on the MCP server "slowpoke" did not answer within 0 s|did not answer within/);
  });

  it('a server that cannot start says why, and is not started again at once', async () => {
    const conn = connect('broken', stdio('/nonexistent/mcp-server', []));
    await assert.rejects(conn.tools(), /the MCP server "broken" could not be started: .*(ENOENT|nonexistent)/);
    const t0 = Date.now();
    // Within the backoff, a second ask waits for the next attempt (1 s) and fails again.
    await assert.rejects(conn.tools(), /could not be started/);
    assert.ok(Date.now() - t0 >= 900, 'it waited for the backoff');
    await assert.rejects(conn.tools(), /is down .*tries to start it again in \d+ s|could not be started/);
  });
});
