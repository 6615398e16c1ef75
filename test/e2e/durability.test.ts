import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { createDatabase } from '../../core/db/index.js';
import { createLogger } from '../../core/log.js';
import { usageForRun } from '../../agents/index.js';
import { cleanEnv, getMessages, postMessage, runCli, startPantheonProcess, tempDir, waitForMessage, modelEnv } from '../support/pantheon-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('durability of the walking skeleton', () => {
  let fake: FakeLLM;
  before(async () => {
    fake = await startFakeLLM();
  });
  after(async () => {
    await fake.close();
  });
  const envFor = () => modelEnv(fake);

  it('a process killed mid-run answers after restart, exactly once, without a duplicated turn', async () => {
    const dir = await tempDir();
    try {
      fake.clear();
      fake.enqueue({ text: 'never delivered', delayMs: 8_000 });
      let app = await startPantheonProcess({ env: envFor(), dataDir: dir.path });
      await postMessage(app.url, 'crash', { text: '@apollo deploy notes please', user: 'alice' });
      for (let i = 0; i < 200 && fake.requests.length === 0; i++) await sleep(25);
      assert.equal(fake.requests.length, 1, 'the model call is in flight');
      app.child.kill('SIGKILL');
      await new Promise((r) => app.child.once('exit', r));

      fake.enqueue({ text: 'answered after the crash' });
      app = await startPantheonProcess({ env: envFor(), dataDir: dir.path });
      try {
        await waitForMessage(app.url, 'crash', (m) => m.role === 'agent');
        await sleep(300);
        const messages = await getMessages(app.url, 'crash');
        assert.deepEqual(
          messages.map((m) => [m.role, m.text]),
          [
            ['user', '@apollo deploy notes please'],
            ['agent', 'answered after the crash'],
          ],
        );
        const retried = fake.requests.at(-1)!;
        assert.deepEqual(
          retried.messages.filter((m) => m.role !== 'system').map((m) => m.content),
          ['@apollo deploy notes please'],
          'the replayed run sends the human turn once',
        );
      } finally {
        assert.equal(await app.stop(), 0);
      }

      // A further restart replays nothing: the message was finished.
      const requestsBefore = fake.requests.length;
      app = await startPantheonProcess({ env: envFor(), dataDir: dir.path });
      await sleep(500);
      assert.equal((await getMessages(app.url, 'crash')).length, 2);
      assert.equal(fake.requests.length, requestsBefore);
      assert.equal(await app.stop(), 0);
    } finally {
      await dir.remove();
    }
  });

  it('a message posted twice with the same client id is stored and answered once; usage and cost are recorded per persona per run', async () => {
    const dir = await tempDir();
    try {
      fake.clear();
      fake.enqueue({ text: 'only once', usage: { input: 1200, output: 300 } });
      const app = await startPantheonProcess({ env: envFor(), dataDir: dir.path });
      try {
        const a = await postMessage(app.url, 'dedupe', { text: '@hermes hi', user: 'bob', id: 'client-42' });
        const b = await postMessage(app.url, 'dedupe', { text: '@hermes hi', user: 'bob', id: 'client-42' });
        assert.equal(a.status, 202);
        assert.equal(b.status, 202);
        assert.deepEqual(await b.json(), await a.json());
        await waitForMessage(app.url, 'dedupe', (m) => m.role === 'agent');
        await sleep(300);
        assert.deepEqual(
          (await getMessages(app.url, 'dedupe')).map((m) => [m.role, m.text]),
          [
            ['user', '@hermes hi'],
            ['agent', 'only once'],
          ],
        );
        assert.equal(fake.requests.filter((r) => r.wire === 'openai').length, 1);
      } finally {
        assert.equal(await app.stop(), 0);
      }

      const db = await createDatabase({ dataDir: dir.path, logger: createLogger({ level: 'silent' }) });
      try {
        const { rows } = await db.pool.query<{ id: string }>(`SELECT id FROM runs WHERE status = 'done'`);
        assert.equal(rows.length, 1);
        const usage = await usageForRun(db.pool, rows[0]!.id);
        assert.equal(usage.length, 1);
        assert.equal(usage[0]!.persona, 'hermes');
        assert.equal(usage[0]!.inputTokens, 1200);
        assert.equal(usage[0]!.outputTokens, 300);
        assert.ok(usage[0]!.costUsd > 0, 'gpt-4.1-mini is priced');
      } finally {
        await db.close();
      }
    } finally {
      await dir.remove();
    }
  });

  it('pantheon migrate applies the migrations once', async () => {
    const dir = await tempDir();
    try {
      const first = await runCli(['migrate', '--data-dir', join(dir.path, 'data')], { env: cleanEnv() });
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /applied \d+ migration\(s\): .*0001/);
      const second = await runCli(['migrate', '--data-dir', join(dir.path, 'data')], { env: cleanEnv() });
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, /database is up to date/);
    } finally {
      await dir.remove();
    }
  });
});
