import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { getMessages, modelEnv, postMessage, runCli, startPantheonProcess, tempDir, waitForMessage } from '../support/pantheon-process.js';
import { seedDataDir, type Seeded } from '../support/seed-data-dir.js';

/** `pantheon backup` of one data dir, `pantheon restore` into another, a server on the copy reads it all back. */
describe('pantheon backup / restore (embedded database)', () => {
  let fake: FakeLLM;
  let dir: { path: string; remove: () => Promise<void> };
  let seeded: Seeded;
  let env: NodeJS.ProcessEnv;
  const original = () => join(dir.path, 'original');
  const restored = () => join(dir.path, 'restored');
  const backupFile = () => join(dir.path, 'pantheon.backup.tgz');
  const cli = (...args: string[]) => runCli(args, { env, cwd: dir.path, timeoutMs: 60_000 });

  before(async () => {
    fake = await startFakeLLM();
    dir = await tempDir('pantheon-backup-');
    seeded = await seedDataDir(original());
    env = modelEnv(fake);
  });
  after(async () => {
    await fake?.close();
    await dir?.remove();
  });

  it('refuses while a server holds the data dir, then backs up once it is stopped', async () => {
    const server = await startPantheonProcess({ env, dataDir: original() });
    try {
      fake.enqueue({ text: 'pong before the backup' });
      assert.equal((await postMessage(server.url, 'term', { text: '@apollo ping', user: 'erin' })).status, 202);
      await waitForMessage(server.url, 'term', (m) => m.text === 'pong before the backup');
      const refused = await cli('backup', backupFile(), '--data-dir', original());
      assert.equal(refused.code, 1);
      assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
      assert.match(
        refused.stderr,
        new RegExp(`^pantheon: the embedded database in .* is in use by pid ${server.child.pid} \\(a running Pantheon\\): stop it first, a backup needs the database to itself\\n$`),
      );
    } finally {
      assert.equal(await server.stop(), 0);
    }
    const { code, stdout, stderr } = await cli('backup', backupFile(), '--data-dir', original());
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^backed up the embedded database in .*original to .*pantheon\.backup\.tgz \(\d+\.\d MB\)\n$/);
    assert.equal(statSync(backupFile()).mode & 0o777, 0o600);
  });

  it('restores into a new data dir, and refuses to overwrite one without --force', async () => {
    const first = await cli('restore', backupFile(), '--data-dir', restored());
    assert.equal(first.code, 0, first.stderr);
    const again = await cli('restore', backupFile(), '--data-dir', restored());
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^pantheon: .*restored\/pgdata already holds a database: restore into a new --data-dir, or pass --force to replace it\n$/);
    const forced = await cli('restore', backupFile(), '--data-dir', restored(), '--force');
    assert.equal(forced.code, 0, forced.stderr);
  });

  it('a server on the restored data dir has the conversations, the memory and the work ledger', async () => {
    const server = await startPantheonProcess({ env, dataDir: restored() });
    try {
      assert.deepEqual(
        (await getMessages(server.url, seeded.conversation)).map((m) => [m.author, m.text]),
        [
          ['alice', '@athena we need rate limiting on the API'],
          ['athena', 'Filed it; apollo is on it.'],
        ],
      );
      assert.deepEqual(
        (await getMessages(server.url, 'term')).map((m) => [m.author, m.text]),
        [
          ['erin', '@apollo ping'],
          ['apollo', 'pong before the backup'],
        ],
      );
      const memory = (await (await fetch(`${server.url}/api/memory/${seeded.memoryId}`, { headers: server.auth })).json()) as { content?: string; memory?: { content: string } };
      assert.match(JSON.stringify(memory), /Redis token bucket, 100 requests per minute/);
      const recall = await fetch(`${server.url}/api/memory?q=${encodeURIComponent('rate limiting token bucket')}`, { headers: server.auth });
      assert.equal(recall.status, 200);
      assert.match(await recall.text(), new RegExp(seeded.memoryId));
      const work = (await (await fetch(`${server.url}/api/work/${seeded.workItemId}`, { headers: server.auth })).json()) as { item: { title: string; state: string; owner: string } };
      assert.deepEqual([work.item.title, work.item.state, work.item.owner], ['Rate limiting on the API', 'in_progress', 'apollo']);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  it('a file that is not a backup: one line, and the data dir is left without a database', async () => {
    const junk = join(dir.path, 'junk.tgz');
    await import('node:fs/promises').then((fs) => fs.writeFile(junk, 'not a tarball'));
    const { code, stderr } = await cli('restore', junk, '--data-dir', join(dir.path, 'other'));
    assert.equal(code, 1);
    assert.match(stderr, /^pantheon: .*junk\.tgz is not a backup of Pantheon's embedded database/);
    assert.doesNotMatch(stderr, /\n\s+at /);
  });
});
