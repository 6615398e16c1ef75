import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { createTestDatabase, postgresSkip } from '../support/postgres.js';
import { getMessages, modelEnv, postMessage, runCli, startPantheonProcess, tempDir, waitForMessage, type RunningPantheon } from '../support/pantheon-process.js';

const approvalIdIn = (text: string) => /Approval needed \[([a-z0-9]+)\]/.exec(text)?.[1];

/**
 * Issue 16, part 5, through the real process on Postgres (so the test can count rows beside it):
 * a thread's checkpoint rows stay bounded over 300 turns (the drain keeps only what resuming
 * needs; long-thread-mattermost.test.ts checks the same every 50 turns of a 500-turn thread, across
 * a restart); a run paused for approval still resumes after pruning; `pantheon prune --dry-run`
 * prints what would go, per kind, and removes nothing; `pantheon prune` removes it.
 */
describe('retention, through the real process', { skip: postgresSkip }, () => {
  let llm: FakeLLM;
  before(async () => {
    llm = await startFakeLLM();
  });
  after(async () => {
    await llm.close();
  });

  it('300 turns keep the checkpoint rows bounded; an approval resumes after pruning; prune --dry-run removes nothing', { timeout: 300_000 }, async () => {
    const dir = await tempDir('pantheon-retention-');
    const db = await createTestDatabase('retention');
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    await mkdir(join(dir.path, 'personas'));
    await writeFile(join(dir.path, 'personas', 'apollo.yaml'), 'id: apollo\nname: Apollo\nrole: developer\ndescription: Developer.\ntools: [chat]\nprompt: I write code.\n');
    await writeFile(
      join(dir.path, 'pantheon.yaml'),
      ['models: { default: "openai:gpt-4.1-mini" }', 'humans:', '  - { id: jeff, local: jeff, approver: true }', 'policy:', '  tools: { post_message: ask }', 'retention:', '  auditDays: 0'].join(
        '\n',
      ),
    );
    const env = modelEnv(llm, { DATABASE_URL: db.url });
    const app: RunningPantheon = await startPantheonProcess({ env, dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 90_000 });
    const rows = async (thread: string) => {
      const { rows: r } = await pool.query<{ checkpoints: number; writes: number }>(
        `SELECT (SELECT count(*)::int FROM graph_checkpoints WHERE thread_id = $1) AS checkpoints, (SELECT count(*)::int FROM graph_writes WHERE thread_id = $1) AS writes`,
        [thread],
      );
      return r[0]!;
    };
    try {
      llm.setResponder(() => ({ text: 'Noted.' }));
      const room = 'months';
      const seen: Array<{ checkpoints: number; writes: number }> = [];
      for (let i = 1; i <= 300; i++) {
        await postMessage(app.url, room, { text: `@apollo turn ${i}`, user: 'jeff' });
        const deadline = Date.now() + 20_000;
        while ((await getMessages(app.url, room)).filter((m) => m.role === 'agent').length < i) {
          if (Date.now() > deadline) throw new Error(`no answer to turn ${i}\n${app.stderr().slice(-3000)}`);
          await new Promise((r) => setTimeout(r, 10));
        }
        if (i % 50 === 0) {
          // The answer is posted before the drain ends; the drain's end prunes.
          let now = await rows(`local:${room}`);
          for (let t = 0; now.checkpoints > 1 && t < 100; t++) {
            await new Promise((r) => setTimeout(r, 20));
            now = await rows(`local:${room}`);
          }
          seen.push(now);
        }
      }
      // Without pruning a plain turn leaves about 4 checkpoints: 300 turns would be 1,200 rows.
      assert.deepEqual(seen, Array(6).fill({ checkpoints: 1, writes: 0 }), 'one checkpoint (the latest) after every 50th turn');

      // A tool call (audited), then a run paused for approval: its checkpoint and the interrupt's writes are what resuming needs.
      llm.setResponder(undefined);
      llm.enqueue({ toolCalls: [{ name: 'list_team', args: {} }] }, { text: 'The team is Apollo.' });
      await postMessage(app.url, room, { text: '@apollo who is on the team?', user: 'jeff' });
      await waitForMessage(app.url, room, (m) => m.text === 'The team is Apollo.');
      llm.enqueue({ toolCalls: [{ name: 'post_message', args: { conversation: 'ops-room', text: 'maintenance tonight', reason: 'announce' } }] }, { text: 'Announced in ops-room.' });
      await postMessage(app.url, room, { text: '@apollo announce maintenance in ops-room', user: 'jeff' });
      const request = await waitForMessage(app.url, room, (m) => m.role === 'system' && /Approval needed/.test(m.text));
      const id = approvalIdIn(request.text)!;
      await new Promise((r) => setTimeout(r, 300));
      const paused = await rows(`local:${room}`);
      assert.ok(paused.checkpoints <= 2, `paused: ${JSON.stringify(paused)}`);

      // The dry run prints per kind and removes nothing.
      const count = async () =>
        (await pool.query<{ n: number }>(`SELECT (SELECT count(*) FROM audit_log) + (SELECT count(*) FROM graph_checkpoints) + (SELECT count(*) FROM graph_writes) AS n`)).rows[0]!.n;
      const audited = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM audit_log')).rows[0]!.n);
      assert.ok(audited > 0);
      const before = await count();
      const dry = await runCli(['prune', '--dry-run', '--url', app.url, '--data-dir', join(dir.path, 'data')], { env: { ...env, PANTHEON_CONSOLE_TOKEN: app.token } });
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, new RegExp(`^checkpoints\\s+would remove \\d+ rows?, [\\d.]+ (B|KB)\\s+\\(superseded by a later checkpoint\\)$`, 'm'));
      assert.match(dry.stdout, new RegExp(`^audit\\s+would remove ${audited} rows?, [\\d.]+ (B|KB)\\s+\\(retention\\.auditDays: older than 0 days\\)$`, 'm'));
      assert.match(dry.stdout, /^transcripts\s+would remove 0 rows, 0 B\s+\(retention\.transcriptDays: older than 90 days\)$/m);
      assert.match(dry.stdout, /^job_logs\s+would remove 0 rows, 0 B\s+\(retention\.jobLogDays: older than 30 days\)$/m);
      assert.match(dry.stdout, /^workspaces\s+would remove 0 workspaces, 0 B/m);
      assert.match(dry.stdout, /^total\s+would remove .*; nothing was removed \(dry run\)$/m);
      assert.equal(await count(), before, 'the dry run removed nothing');

      const real = await runCli(['prune', '--url', app.url, '--data-dir', join(dir.path, 'data')], { env: { ...env, PANTHEON_CONSOLE_TOKEN: app.token } });
      assert.equal(real.code, 0, real.stderr);
      assert.match(real.stdout, new RegExp(`^audit\\s+removed ${audited} rows?`, 'm'));
      assert.equal(Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM audit_log')).rows[0]!.n), 0, 'old audit entries removed (retention.auditDays: 0)');

      // After pruning, approving resumes the paused run: the tool runs once and Apollo finishes.
      await postMessage(app.url, room, { text: `approve ${id}`, user: 'jeff' });
      await waitForMessage(app.url, room, (m) => m.text === 'Announced in ops-room.', 20_000);
      assert.deepEqual(
        (await getMessages(app.url, 'ops-room')).map((m) => m.text),
        ['maintenance tonight'],
      );
      assert.ok((await rows(`local:${room}`)).checkpoints <= 2);
    } finally {
      assert.equal(await app.stop(), 0);
      await pool.end();
      await db.drop();
      await dir.remove();
    }
  });
});
