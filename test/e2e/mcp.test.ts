import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { echoResponder, startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { CLI, REPO_ROOT, cleanEnv, getMessages, modelEnv, postMessage, startPantheonProcess, tempDir, waitForMessage, type RunningPantheon } from '../support/pantheon-process.js';

/**
 * Issue 19 end to end, against MCP servers nobody here wrote: the reference servers from npm,
 * run from node_modules/.bin (never fetched at test time). A real `pantheon start`, the scripted
 * model choosing each tool call; what the test asserts is what people see in the thread.
 */
const BIN = join(REPO_ROOT, 'node_modules', '.bin');
const EVERYTHING = join(BIN, 'mcp-server-everything');
const FILESYSTEM = join(BIN, 'mcp-server-filesystem');

const approvalIdIn = (text: string) => /Approval needed \[([a-z0-9]+)\]/.exec(text)?.[1];

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/** server-everything over streamable HTTP, as its own process. */
async function startEverythingHttp(): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  // Its own server, kept to the loopback interface (it would listen on every one).
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', join(REPO_ROOT, 'test', 'fakes', 'mcp', 'loopback-only.ts'), EVERYTHING, 'streamableHttp'], {
    env: { PATH: process.env.PATH, PORT: String(port) },
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const up = await fetch(`http://127.0.0.1:${port}/mcp`, { method: 'GET' }).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server-everything (streamable HTTP) did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    child,
    stop: () =>
      new Promise((r) => {
        if (child.exitCode !== null) return r();
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

/** The pids the server logged for "MCP server started" of one server, in order. */
function startedPids(app: RunningPantheon, server: string): number[] {
  return app
    .stdout()
    .split('\n')
    .flatMap((line) => {
      try {
        const e = JSON.parse(line) as { msg?: string; mcpServer?: string; pid?: number };
        return e.msg === 'MCP server started' && e.mcpServer === server && e.pid ? [e.pid] : [];
      } catch {
        return [];
      }
    });
}

const persona = (id: string, tools: string[]) =>
  [`id: ${id}`, `name: ${id[0]!.toUpperCase()}${id.slice(1)}`, 'role: developer', 'description: Uses MCP tools.', `tools: ${JSON.stringify(tools)}`, 'prompt: I use tools.'].join('\n');

describe('MCP: personas use the tools of MCP servers, and Pantheon is an MCP server', () => {
  let fake: FakeLLM;
  let dir: { path: string; remove(): Promise<void> };
  let http: Awaited<ReturnType<typeof startEverythingHttp>>;
  let app: RunningPantheon;
  let shared: string;

  before(async () => {
    fake = await startFakeLLM();
    dir = await tempDir();
    http = await startEverythingHttp();
    shared = join(dir.path, 'shared');
    await mkdir(shared);
    await writeFile(join(shared, 'notes.txt'), 'The launch code word is BLUEBIRD.\n');
    await mkdir(join(dir.path, 'personas'));
    await writeFile(join(dir.path, 'personas', 'apollo.yaml'), persona('apollo', ['memory', 'mcp:everything', 'mcp:web', 'mcp:files']));
    await writeFile(join(dir.path, 'personas', 'hermes.yaml'), persona('hermes', ['memory', 'mcp:broken', 'mcp:everything']));
    await writeFile(
      join(dir.path, 'pantheon.yaml'),
      [
        'personasDir: ./personas',
        'humans:',
        '  - { id: jeff, local: jeff, approver: true }',
        'policy:',
        '  risk: { read: allow, write: ask, destructive: ask }',
        '  tools: { mcp__everything__get-sum: deny }',
        'mcp:',
        '  servers:',
        `    everything: { command: ${JSON.stringify(EVERYTHING)}, args: [stdio], env: { GREETING: hello-from-config, MCP_API_TOKEN: mcp-secret-value-99 } }`,
        `    web: { url: ${JSON.stringify(http.url)} }`,
        `    files: { command: ${JSON.stringify(FILESYSTEM)}, args: [${JSON.stringify(shared)}] }`,
        '    broken: { command: /nonexistent/mcp-server, args: [stdio] }',
      ].join('\n'),
    );
    app = await startPantheonProcess({
      env: modelEnv(fake, { PANTHEON_SECRET_CANARY: 'canary-value-4711', GITHUB_TOKEN: 'ghp_canarycanarycanary000000000000000000' }),
      dataDir: join(dir.path, 'data'),
      cwd: dir.path,
    });
  });
  after(async () => {
    await app?.stop();
    await http?.stop();
    await fake?.close();
    await dir?.remove();
  });

  /** The scripted model relays the last tool result into its answer, as a model would. */
  const relayToolResults = () =>
    fake.setResponder((req) => {
      const lastUser = req.messages.findLastIndex((m) => m.role === 'user');
      const results = req.messages.slice(lastUser + 1).filter((m) => m.role === 'tool');
      return results.length ? { text: `Tool said: ${results.map((m) => m.content).join('\n')}` } : echoResponder(req);
    });

  it('stdio: apollo calls echo on server-everything and the result reaches the thread; a policy entry naming an MCP tool denies it', async () => {
    fake.clear();
    relayToolResults();
    fake.enqueue({
      toolCalls: [
        { name: 'mcp__everything__echo', args: { message: 'hello over stdio' } },
        { name: 'mcp__everything__get-sum', args: { a: 1, b: 2 } },
      ],
    });
    await postMessage(app.url, 'mcp-stdio', { text: '@apollo echo something', user: 'alice' });
    const answer = await waitForMessage(app.url, 'mcp-stdio', (m) => m.role === 'agent' && m.text.startsWith('Tool said'), 60_000);
    assert.match(answer.text, /<untrusted-data id="[0-9a-f]{8}" source="everything\/echo">\n.*hello over stdio/s);
    assert.match(answer.text, /Not run: the policy does not allow apollo to use mcp__everything__get-sum/);
    const offered = fake.requests[0]!.tools;
    for (const name of ['mcp__everything__echo', 'mcp__web__echo', 'mcp__files__read_text_file']) assert.ok(offered.includes(name), `${name} offered; offered: ${offered.join(', ')}`);
    const audit = ((await (await fetch(`${app.url}/api/audit?persona=apollo`, { headers: app.auth })).json()) as { entries: Array<{ outcome: string; tool: string }> }).entries;
    assert.deepEqual(audit.map((e) => [e.tool, e.outcome]).sort(), [
      ['mcp__everything__echo', 'ok'],
      ['mcp__everything__get-sum', 'refused_by_policy'],
    ]);
  });

  it("a stdio server's environment holds what was configured and nothing of Pantheon's", async () => {
    fake.clear();
    relayToolResults();
    fake.enqueue({ toolCalls: [{ name: 'mcp__everything__get-env', args: {} }] });
    await postMessage(app.url, 'mcp-env', { text: '@apollo show the environment', user: 'alice' });
    const answer = await waitForMessage(app.url, 'mcp-env', (m) => m.role === 'agent' && m.text.startsWith('Tool said'), 60_000);
    const env = JSON.parse(/<untrusted-data[^>]*>\n([\s\S]*)\n<\/untrusted-data/.exec(answer.text)![1]!) as Record<string, string>;
    assert.equal(env.GREETING, 'hello-from-config');
    assert.ok('MCP_API_TOKEN' in env, 'the configured secret reaches the server');
    assert.ok(!answer.text.includes('mcp-secret-value-99'), 'and is scrubbed from what the server prints');
    const allowed = new Set(['GREETING', 'MCP_API_TOKEN', 'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TERM']);
    assert.deepEqual(
      Object.keys(env).filter((k) => !allowed.has(k)),
      [],
      'nothing else in its environment',
    );
    for (const leaked of ['OPENAI_API_KEY', 'PANTHEON_SECRET_CANARY', 'canary-value-4711', 'GITHUB_TOKEN', 'PANTHEON_MODEL']) {
      assert.ok(!answer.text.includes(leaked), `${leaked} must not reach the MCP server`);
    }
  });

  it('a tool not annotated read-only waits for an approver under write: ask, the request shows server, tool and arguments, then runs', async () => {
    fake.clear();
    relayToolResults();
    const made = join(shared, 'approved-dir');
    fake.enqueue({ toolCalls: [{ name: 'mcp__files__create_directory', args: { path: made, reason: 'alice asked for a directory' } }] });
    await postMessage(app.url, 'mcp-approve', { text: '@apollo make a directory', user: 'alice' });
    const request = await waitForMessage(app.url, 'mcp-approve', (m) => m.role === 'system' && /Approval needed/.test(m.text), 60_000);
    assert.match(request.text, /apollo wants to run mcp__files__create_directory/);
    assert.match(request.text, /mcpServer\W+files/);
    assert.match(request.text, /mcpTool\W+create_directory/);
    assert.ok(request.text.includes(made), request.text);
    assert.match(request.text, /alice asked for a directory/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(existsSync(made), false, 'nothing ran before the approval');
    assert.equal(fake.requests.length, 1, 'the model waits too');
    await postMessage(app.url, 'mcp-approve', { text: `approve ${approvalIdIn(request.text)}`, user: 'jeff' });
    const answer = await waitForMessage(app.url, 'mcp-approve', (m) => m.role === 'agent' && m.text.startsWith('Tool said'), 60_000);
    assert.match(answer.text, /Successfully created directory/);
    assert.equal(existsSync(made), true);
  });

  it('streamable HTTP: apollo calls echo on server-everything over HTTP', async () => {
    fake.clear();
    relayToolResults();
    fake.enqueue({ toolCalls: [{ name: 'mcp__web__echo', args: { message: 'hello over http' } }] });
    await postMessage(app.url, 'mcp-http', { text: '@apollo echo over http', user: 'alice' });
    const answer = await waitForMessage(app.url, 'mcp-http', (m) => m.role === 'agent' && m.text.startsWith('Tool said'), 60_000);
    assert.match(answer.text, /source="web\/echo">\n.*hello over http/s);
  });

  it('server-filesystem: apollo reads a file (read-only: no approval) and the content reaches the thread', async () => {
    fake.clear();
    relayToolResults();
    fake.enqueue({ toolCalls: [{ name: 'mcp__files__read_text_file', args: { path: join(shared, 'notes.txt') } }] });
    await postMessage(app.url, 'mcp-files', { text: '@apollo read notes.txt', user: 'alice' });
    const answer = await waitForMessage(app.url, 'mcp-files', (m) => m.role === 'agent' && m.text.startsWith('Tool said'), 60_000);
    assert.match(answer.text, /BLUEBIRD/);
    assert.ok(!(await getMessages(app.url, 'mcp-files')).some((m) => /Approval needed/.test(m.text)));
  });

  it('killing the stdio server mid-conversation: it is restarted and the next call works', async () => {
    const [pid] = startedPids(app, 'everything');
    assert.ok(pid, 'the server logged its pid when it started');
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && !/MCP server \\"?everything\\"? stopped/.test(app.stdout()); i++) await new Promise((r) => setTimeout(r, 50));
    fake.clear();
    relayToolResults();
    fake.enqueue({ toolCalls: [{ name: 'mcp__everything__echo', args: { message: 'after the crash' } }] });
    await postMessage(app.url, 'mcp-stdio', { text: '@apollo echo again', user: 'alice' });
    const answer = await waitForMessage(app.url, 'mcp-stdio', (m) => m.role === 'agent' && m.text.includes('after the crash'), 60_000);
    assert.match(answer.text, /^Tool said: <untrusted-data/);
    const pids = startedPids(app, 'everything');
    assert.equal(pids.length, 2, `started twice: ${pids.join(', ')}`);
    assert.notEqual(pids[1], pid);
  });

  it('a server that cannot start: the persona is told, the log says why, and its other tools work', async () => {
    fake.clear();
    relayToolResults();
    fake.enqueue({ toolCalls: [{ name: 'mcp__everything__echo', args: { message: 'still working' } }] });
    await postMessage(app.url, 'mcp-broken', { text: '@hermes echo', user: 'alice' });
    const answer = await waitForMessage(app.url, 'mcp-broken', (m) => m.role === 'agent' && m.text.startsWith('Tool said'), 60_000);
    assert.match(answer.text, /still working/);
    const system = fake.requests[0]!.messages.find((m) => m.role === 'system')!.content;
    assert.match(system, /The tools of mcp:broken are unavailable: the MCP server "broken" could not be started: .*ENOENT|nonexistent/);
    assert.match(app.stdout(), /MCP server \\"broken\\" could not be started/);
  });

  it('pantheon mcp, driven by the SDK client: lists its tools and asks apollo, who answers in the named thread', async () => {
    fake.clear();
    fake.enqueue({ text: 'Four, as always.' });
    const client = new Client({ name: 'e2e', version: '1' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI, 'mcp', '--url', app.url],
        env: cleanEnv({ PANTHEON_CONSOLE_TOKEN: app.token }) as Record<string, string>,
        cwd: dir.path,
        stderr: 'pipe',
      }),
    );
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ['ask_persona', 'list_pending_approvals', 'list_personas', 'list_work', 'read_conversation']);
      const result = (await client.callTool({ name: 'ask_persona', arguments: { persona: 'apollo', message: 'what is 2+2?', thread: 'from-claude' } })) as {
        content: Array<{ text: string }>;
        isError?: boolean;
      };
      assert.ok(!result.isError, JSON.stringify(result));
      assert.match(result.content[0]!.text, /Four, as always\./);
      const thread = await getMessages(app.url, 'from-claude');
      assert.deepEqual(
        thread.map((m) => [m.role, m.persona ?? m.author, m.text]),
        [
          ['user', 'mcp-client', '@apollo what is 2+2?'],
          ['agent', 'apollo', 'Four, as always.'],
        ],
      );
      const read = (await client.callTool({ name: 'read_conversation', arguments: { thread: 'from-claude' } })) as { content: Array<{ text: string }> };
      assert.match(read.content[0]!.text, /\[apollo\] Four, as always\./);
      // A call waiting for a human shows in list_pending_approvals; approving stays in chat.
      fake.enqueue({ toolCalls: [{ name: 'mcp__files__create_directory', args: { path: join(shared, 'pending-dir'), reason: 'for the listing' } }] }, { text: 'Not made.' });
      await postMessage(app.url, 'mcp-pending', { text: '@apollo make pending-dir', user: 'alice' });
      const request = await waitForMessage(app.url, 'mcp-pending', (m) => m.role === 'system' && /Approval needed/.test(m.text), 60_000);
      const id = approvalIdIn(request.text)!;
      const pending = (await client.callTool({ name: 'list_pending_approvals', arguments: {} })) as { content: Array<{ text: string }> };
      assert.match(pending.content[0]!.text, new RegExp(`\\[${id}\\] apollo wants to run mcp__files__create_directory \\(write\\) in local:mcp-pending: for the listing`));
      await postMessage(app.url, 'mcp-pending', { text: `deny ${id}`, user: 'jeff' });
      await waitForMessage(app.url, 'mcp-pending', (m) => m.text === 'Not made.', 60_000);
      assert.match(((await client.callTool({ name: 'list_pending_approvals', arguments: {} })) as { content: Array<{ text: string }> }).content[0]!.text, /No approvals are pending/);
      assert.match(((await client.callTool({ name: 'list_work', arguments: {} })) as { content: Array<{ text: string }> }).content[0]!.text, /^Nothing in flight\.$/);
      const refused = (await client.callTool({ name: 'ask_persona', arguments: { persona: 'apollo', message: 'approve abc123' } })) as { content: Array<{ text: string }>; isError?: boolean };
      assert.equal(refused.isError, true);
      assert.match(refused.content[0]!.text, /for people in chat/);
    } finally {
      await client.close();
    }
    const unauthenticated = await fetch(`${app.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    assert.equal(unauthenticated.status, 401);
  });
});
