import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDatabase, migrate } from '../../core/db/index.js';
import { createLogger } from '../../core/log.js';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { getMessages, modelEnv, postMessage, startPantheonProcess, tempDir, waitForMessage, type RunningPantheon } from '../support/pantheon-process.js';

/**
 * Approval requests through the notifier, on the real process under a controlled clock: ann
 * (Berlin) and bob (New York) approve, each with quiet hours. Asked while ann sleeps, the request
 * goes to bob; unanswered, it escalates to the ops channel and the thread says so; then it expires
 * and the thread says that too. Asked while both sleep, it waits, and ann's digest carries it
 * when her quiet hours end; she approves from there and the tool runs.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const approvalIdIn = (text: string) => /Approval needed \[([a-z0-9]+)\]/.exec(text)?.[1];

const HUMANS = [
  'humans:',
  '  - id: ann',
  '    local: ann',
  '    approver: true',
  '    notify: { via: [local], quietHours: { from: "22:00", to: "07:00", timezone: Europe/Berlin }, kinds: [approvals, failures] }',
  '  - id: bob',
  '    local: bob',
  '    approver: true',
  '    notify: { via: [local], quietHours: { from: "20:00", to: "08:00", timezone: America/New_York } }',
];

describe('notifications: quiet hours, the other approver, the digest, escalation', () => {
  let llm: FakeLLM;
  let dir: { path: string; remove: () => Promise<void> };
  let app: RunningPantheon | undefined;

  /** A project with its embedded database already made (so the server starts in seconds). */
  const project = async (name: string, config: string[]) => {
    const path = join(dir.path, name);
    await mkdir(path);
    await writeFile(join(path, 'pantheon.yaml'), config.join('\n'));
    const logger = createLogger({ level: 'silent' });
    const db = await createDatabase({ dataDir: join(path, 'data'), logger });
    await migrate(db.pool, { logger });
    await db.close();
    return path;
  };
  const askToAnnounce = async (conversation: string) => {
    llm.enqueue(
      { text: 'Announcing.', toolCalls: [{ name: 'post_message', args: { conversation: 'announcements', text: 'Deploy at 17:00.', reason: 'jeff asked for the deploy notice' } }] },
      { text: 'Done with the announcement.' },
    );
    await postMessage(app!.url, conversation, { text: '@athena announce the deploy at 17:00', user: 'jeff' });
    const request = await waitForMessage(app!.url, conversation, (m) => m.role === 'system' && /Approval needed/.test(m.text), 30_000);
    return approvalIdIn(request.text)!;
  };

  before(async () => {
    llm = await startFakeLLM();
    dir = await tempDir('pantheon-notify-');
  });
  after(async () => {
    if (app && app.child.exitCode === null) await app.stop();
    await llm?.close();
    await dir?.remove();
  });

  it('ann asleep: the request goes to bob alone; unanswered 12 s, it escalates to local:ops (the thread is told); then it expires (announced)', { timeout: 300_000 }, async () => {
    const path = await project('one-awake', [...HUMANS, 'policy:', '  tools: { post_message: ask }', '  approvalTtlMinutes: 0.75', '  escalation: { afterMinutes: 0.2, channel: "local:ops" }']);
    // 23:30 in Berlin (ann's quiet hours), 17:30 in New York (bob is awake).
    app = await startPantheonProcess({ env: modelEnv(llm, { PANTHEON_TEST_CLOCK: '2026-03-02T22:30:00Z' }), dataDir: join(path, 'data'), cwd: path });
    const id = await askToAnnounce('deploy');
    await waitForMessage(app.url, 'dm-bob', (m) => m.text.includes(`[${id}]`), 10_000);
    assert.match((await getMessages(app.url, 'dm-bob'))[0]!.text, /\(from local:deploy\)$/);
    const escalated = await waitForMessage(app.url, 'deploy', (m) => m.text.startsWith(`Approval ${id} has waited`), 60_000);
    assert.match(escalated.text, /^Approval \w+ has waited (1[2-9]|[2-5]\d) s unanswered: escalated to local:ops\.$/);
    const ops = await waitForMessage(app.url, 'ops', (m) => m.text.includes(`[${id}]`), 5000);
    assert.match(ops.text, /unanswered for \d+ s in local:deploy/);
    await waitForMessage(app.url, 'deploy', (m) => m.text === `Approval ${id} expired: athena did not run post_message.`, 120_000);
    await waitForMessage(app.url, 'deploy', (m) => m.text === 'Done with the announcement.', 60_000);
    assert.deepEqual(await getMessages(app.url, 'dm-ann'), [], 'ann slept through it: nothing reached her, nothing is held for her');
    assert.deepEqual(await getMessages(app.url, 'announcements'), [], 'the tool never ran');
    assert.equal(await app.stop(), 0, app.stderr());
  });

  it("both asleep: the request waits (the thread says so); ann's digest carries it when her quiet hours end; her approve runs the tool", { timeout: 300_000 }, async () => {
    const path = await project('none-awake', [...HUMANS, 'policy:', '  tools: { post_message: ask }']);
    // 06:58:30 in Berlin, 00:58:30 in New York: both asleep; ann wakes 90 s of real time after the start (a busy machine is slow).
    const wakeAtMs = Date.now() + 90_000;
    app = await startPantheonProcess({ env: modelEnv(llm, { PANTHEON_TEST_CLOCK: `2026-03-03T06:00:00Z@${wakeAtMs}` }), dataDir: join(path, 'data'), cwd: path });
    const id = await askToAnnounce('release');
    assert.ok(Date.now() < wakeAtMs - 3000, 'asked while both were asleep');
    const waits = await waitForMessage(app.url, 'release', (m) => m.text.startsWith('Every approver is in quiet hours'), 10_000);
    assert.match(waits.text, new RegExp(`so ${id} waits: it reaches them in their digest when their quiet hours end\\.$`));
    while (Date.now() < wakeAtMs - 1000) {
      assert.deepEqual(await getMessages(app.url, 'dm-ann'), [], 'held while ann sleeps');
      await sleep(1000);
    }
    const digest = await waitForMessage(app.url, 'dm-ann', (m) => m.text.startsWith('While you were in quiet hours'), 30_000);
    assert.ok(Date.now() >= wakeAtMs, 'not before 07:00 in Berlin');
    assert.match(digest.text, /^While you were in quiet hours \(1 notice\):\n• Approval needed \[\w+\]: athena wants to run post_message/);
    assert.match(digest.text, new RegExp(`approve ${id}`));
    assert.deepEqual(await getMessages(app.url, 'dm-bob'), [], 'bob is still asleep: his copy stays held');

    await postMessage(app.url, 'dm-ann', { text: `approve ${id}`, user: 'ann' });
    await waitForMessage(app.url, 'dm-ann', (m) => m.text.startsWith(`Approved by ann: athena may run post_message (${id})`), 30_000);
    await waitForMessage(app.url, 'announcements', (m) => m.text === 'Deploy at 17:00.', 60_000);
    await waitForMessage(app.url, 'release', (m) => m.text === 'Done with the announcement.', 60_000);
  });
});
