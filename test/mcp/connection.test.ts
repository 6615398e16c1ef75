import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { McpServerConfig } from '../../core/config/mcp.js';
import { McpConnection } from '../../tools/mcp/connection.js';
import { REPO_ROOT } from '../support/pantheon-process.js';
import { SandboxUnavailableError } from '../../tools/sandbox/types.js';
import { testSandbox } from '../support/sandbox.js';

const EVERYTHING = join(REPO_ROOT, 'node_modules', '.bin', 'mcp-server-everything');
const LOOPBACK_ONLY = join(REPO_ROOT, 'test', 'fakes', 'mcp', 'loopback-only.ts');

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/** server-everything over HTTP (`streamableHttp` or the older `sse`), on the loopback interface only. */
async function everythingOverHttp(mode: 'streamableHttp' | 'sse', port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', LOOPBACK_ONLY, EVERYTHING, mode], { env: { PATH: process.env.PATH, PORT: String(port) }, cwd: REPO_ROOT, stdio: 'ignore' });
  for (let i = 0; i < 300; i++) {
    if (
      await fetch(`http://127.0.0.1:${port}/`).then(
        () => true,
        () => false,
      )
    )
      return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`server-everything (${mode}) did not start`);
}
const stopped = (child: ChildProcess) =>
  new Promise<void>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) return r();
    child.once('exit', () => r());
    child.kill('SIGKILL');
  });
const http = (url: string): McpServerConfig => ({ kind: 'http', url, headers: {}, transport: 'auto', risk: {}, timeoutSeconds: 60, maxOutputChars: 20_000 });

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
    assert.deepEqual(first.tools.map((t) => t.name).sort(), ['add_tool', 'inspect', 'slow']);
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

  it('sandbox: true with no working sandbox: the server is not started, and the message says why', async () => {
    const conn = new McpConnection('boxed', stdio(process.execPath, ['--import', 'tsx', FAKE], { sandbox: true }), {
      ...deps,
      sandbox: async () => ({ warnings: [], problem: new SandboxUnavailableError('bubblewrap is not installed') }),
    });
    open.push(conn);
    await assert.rejects(conn.tools(), /the MCP server "boxed" could not be started: it is configured with sandbox: true and no sandbox can run it here: bubblewrap is not installed/);
    assert.equal(conn.pid(), undefined);
  });

  it("sandbox: true runs the server in the real sandbox: it works, sees only its configured environment, none of the data dir and none of the host's processes", async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pantheon-mcp-sandbox-'));
    try {
      const { resolved, skip } = await testSandbox(dataDir);
      if (skip) return t.skip(skip);
      const secret = join(dataDir, 'console-token');
      await writeFile(secret, 'not for the MCP server');
      process.env.PANTHEON_MCP_CANARY = 'pantheon-secret';
      const conn = new McpConnection('boxed', stdio(process.execPath, ['--import', import.meta.resolve('tsx'), FAKE], { sandbox: true, env: { GIVEN: 'yes' } }), {
        ...deps,
        dataDir,
        sandbox: async () => resolved,
      });
      open.push(conn);
      assert.ok(
        (await conn.tools()).tools.some((tool) => tool.name === 'inspect'),
        'the sandboxed server answers',
      );
      const answer = (await conn.call('inspect', { paths: [secret, dataDir, '/etc/hostname'] }, 20_000)) as { content: Array<{ text: string }> };
      const seen = JSON.parse(answer.content[0]!.text) as { pid: number; env: string[]; processes: number; exists: Record<string, boolean> };
      assert.ok(seen.env.includes('GIVEN'), `its configured variable: ${seen.env}`);
      assert.ok(!seen.env.includes('PANTHEON_MCP_CANARY'), `Pantheon's environment stays out: ${seen.env}`);
      assert.equal(seen.exists[secret], false, "the data dir's files are not there");
      assert.ok(seen.processes < 10, `its own processes only, not the host's (${seen.processes})`);
      assert.ok(seen.pid < 10, `a pid namespace of its own (pid ${seen.pid})`);
    } finally {
      delete process.env.PANTHEON_MCP_CANARY;
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('HTTP, transport auto: a server that speaks only the older SSE transport is reached over SSE', async () => {
    const port = await freePort();
    const server = await everythingOverHttp('sse', port);
    try {
      const conn = connect('legacy', http(`http://127.0.0.1:${port}/sse`));
      assert.ok((await conn.tools()).tools.some((t) => t.name === 'echo'));
      assert.match(JSON.stringify(await conn.call('echo', { message: 'over sse' }, 10_000)), /over sse/);
    } finally {
      await stopped(server);
    }
  });

  it('HTTP: when the server restarts, the call that finds it gone fails with the server named, and the next one reconnects', async () => {
    const port = await freePort();
    let server = await everythingOverHttp('streamableHttp', port);
    try {
      const conn = connect('web', http(`http://127.0.0.1:${port}/mcp`));
      assert.match(JSON.stringify(await conn.call('echo', { message: 'first' }, 10_000)), /first/);
      await stopped(server);
      server = await everythingOverHttp('streamableHttp', port);
      // Its session is gone with the old process: this call is refused, and the connection is dropped.
      await assert.rejects(conn.call('echo', { message: 'lost' }, 10_000), /the MCP server "web" failed/);
      assert.match(JSON.stringify(await conn.call('echo', { message: 'again' }, 10_000)), /again/);
    } finally {
      await stopped(server);
    }
  });
});
