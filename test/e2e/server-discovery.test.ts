import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { getMessages, modelEnv, runCli, startPantheonProcess, tempDir, type RunningPantheon } from '../support/pantheon-process.js';
import { seedDataDir, type Seeded } from '../support/seed-data-dir.js';

const unusedPort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/**
 * The operator commands find a running server through its data dir (`server.json`), with no
 * --url, --port or token: the server listens on a random port and PORT points elsewhere.
 */
describe('the CLI finds the running server by itself', () => {
  let fake: FakeLLM;
  let dir: { path: string; remove: () => Promise<void> };
  let seeded: Seeded;
  let server: RunningPantheon;
  let env: NodeJS.ProcessEnv;
  const dataDir = () => join(dir.path, '.pantheon');
  const cli = (...args: string[]) => runCli(args, { env, cwd: dir.path });

  before(async () => {
    fake = await startFakeLLM();
    dir = await tempDir('pantheon-discovery-');
    seeded = await seedDataDir(dataDir());
    env = modelEnv(fake, { PORT: String(await unusedPort()) });
    server = await startPantheonProcess({ env, dataDir: '.pantheon', cwd: dir.path });
  });
  after(async () => {
    if (server) assert.equal(await server.stop(), 0);
    await fake?.close();
    await dir?.remove();
  });

  it('records where it listens in the data dir, owner-only', () => {
    const path = join(dataDir(), 'server.json');
    const record = JSON.parse(readFileSync(path, 'utf8')) as { url: string; pid: number };
    assert.equal(record.url, server.url);
    assert.equal(record.pid, server.child.pid);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it('`pantheon work` lists the ledger through the server', async () => {
    const { code, stdout, stderr } = await cli('work');
    assert.equal(code, 0, stderr);
    assert.match(stdout, new RegExp(`${seeded.workItemId}\\s+in_progress\\s+apollo`));
  });

  it('`pantheon audit` answers through the server', async () => {
    const { code, stdout, stderr } = await cli('audit');
    assert.equal(code, 0, stderr);
    assert.equal(stdout, 'No audit entries match.\n');
  });

  it('`pantheon memory stats` answers through the server', async () => {
    const { code, stdout, stderr } = await cli('memory', 'stats');
    assert.equal(code, 0, stderr);
    assert.match(stdout, /memories: 1 \(0 archived\)/);
  });

  it('`pantheon chat --once` joins the server instead of starting a second one', async () => {
    fake.enqueue({ text: 'pong from the running server' });
    const { code, stdout, stderr } = await cli('chat', '--conversation', 'term', '--user', 'erin', '--once', '@apollo ping');
    assert.equal(code, 0, stderr);
    assert.match(stdout, /\[apollo\] pong from the running server/);
    const messages = await getMessages(server.url, 'term');
    assert.deepEqual(
      messages.map((m) => [m.author, m.text]),
      [
        ['erin', '@apollo ping'],
        ['apollo', 'pong from the running server'],
      ],
    );
  });

  it('a server that holds the lock but does not answer: one line with the fix, no stack', async () => {
    server.child.kill('SIGSTOP');
    try {
      const { code, stderr } = await cli('work');
      assert.equal(code, 1);
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
      assert.match(stderr, new RegExp(`^pantheon: the embedded database in .* is in use by pid ${server.child.pid}, and no server of it answers over HTTP .*pass --url\\n$`));
    } finally {
      server.child.kill('SIGCONT');
    }
  });

  it('removes the record on a clean stop; then the commands open the database directly', async () => {
    assert.equal(await server.stop(), 0);
    assert.equal(existsSync(join(dataDir(), 'server.json')), false);
    const { code, stdout, stderr } = await cli('work');
    assert.equal(code, 0, stderr);
    assert.match(stdout, new RegExp(seeded.workItemId));
  });
});
