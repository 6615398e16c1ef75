import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { getMessages, postMessage, startPantheonProcess, tempDir, waitForMessage, modelEnv } from '../support/pantheon-process.js';

describe('a long run keeps one progress message up to date', () => {
  let fake: FakeLLM;
  before(async () => {
    fake = await startFakeLLM();
  });
  after(async () => {
    await fake.close();
  });

  it('posts one progress message once the run is long, and edits it in place as steps go by', async () => {
    const dir = await tempDir();
    await writeFile(join(dir.path, 'pantheon.yaml'), 'orchestrator:\n  progressAfterSeconds: 0\n');
    const app = await startPantheonProcess({ env: modelEnv(fake), dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 120_000 });
    try {
      fake.enqueue(
        { toolCalls: [{ name: 'work_in_flight', args: {} }] },
        { toolCalls: [{ name: 'work_in_flight', args: {} }] },
        { toolCalls: [{ name: 'work_in_flight', args: {} }] },
        { text: 'Checked three times: nothing in flight.' },
      );
      await postMessage(app.url, 'long', { text: '@athena check what is in flight, thoroughly', user: 'alice' });
      await waitForMessage(app.url, 'long', (m) => m.text === 'Checked three times: nothing in flight.');
      const messages = await getMessages(app.url, 'long');
      const progress = messages.filter((m) => m.role === 'system' && /is working/.test(m.text));
      assert.equal(progress.length, 1, `one progress message, not one per step: ${JSON.stringify(messages.map((m) => m.text))}`);
      assert.match(progress[0]!.text, /athena is working: 3 steps so far \(work_in_flight, work_in_flight, work_in_flight\)/);
    } finally {
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });
});
