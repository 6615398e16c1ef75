import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { getMessages, runCli, startPantheonProcess, tempDir, modelEnv } from '../support/pantheon-process.js';

const unusedPort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe('pantheon chat', () => {
  let fake: FakeLLM;
  before(async () => {
    fake = await startFakeLLM();
  });
  after(async () => {
    await fake.close();
  });

  it("--once against a running server prints the persona's answer, labelled", async () => {
    const dir = await tempDir();
    const env = modelEnv(fake);
    const app = await startPantheonProcess({ env, dataDir: dir.path });
    try {
      fake.enqueue({ text: 'pong via the terminal' });
      const { code, stdout, stderr } = await runCli(['chat', '--url', app.url, '--data-dir', dir.path, '--conversation', 'term', '--user', 'erin', '--once', '@apollo ping'], { env });
      assert.equal(code, 0, stderr);
      assert.match(stdout, /\[apollo\] pong via the terminal/);
      const messages = await getMessages(app.url, 'term');
      assert.deepEqual(
        messages.map((m) => [m.role, m.author, m.text]),
        [
          ['user', 'erin', '@apollo ping'],
          ['agent', 'apollo', 'pong via the terminal'],
        ],
      );
    } finally {
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });

  it('starts the team in-process when no server answers', async () => {
    const dir = await tempDir();
    const env = modelEnv(fake, { PORT: String(await unusedPort()) });
    try {
      fake.enqueue({ text: 'answered in-process' });
      const { code, stdout, stderr } = await runCli(['chat', '--data-dir', dir.path, '--conversation', 'solo', '--user', 'erin', '--once', '@hermes hi'], { env });
      assert.equal(code, 0, stderr);
      assert.match(stdout, /\[hermes\] answered in-process/);
    } finally {
      await dir.remove();
    }
  });
});
