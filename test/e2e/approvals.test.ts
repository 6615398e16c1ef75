import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { getMessages, postMessage, startPantheonProcess, tempDir, waitForMessage, modelEnv } from '../support/pantheon-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const approvalIdIn = (text: string) => /Approval needed \[([a-z0-9]+)\]/.exec(text)?.[1];

const CONFIG = ['humans:', '  - { id: jeff, local: jeff, approver: true }', '  - { id: carol, local: carol }', 'policy:', '  tools: { post_message: ask }'].join('\n');

interface AuditRow {
  kind: string;
  tool: string | null;
  outcome: string;
  approvalId: string | null;
  actor: string | null;
  persona: string | null;
  args: unknown;
}

describe('approvals: a tool set to "ask" waits for an approver', () => {
  let fake: FakeLLM;
  before(async () => {
    fake = await startFakeLLM();
  });
  after(async () => {
    await fake.close();
  });
  const env = () => modelEnv(fake);

  it('pauses, refuses a non-approver, survives a restart, resumes on approve and runs the tool once; a deny is posted and the persona carries on', async () => {
    const dir = await tempDir();
    await writeFile(join(dir.path, 'pantheon.yaml'), CONFIG);
    const start = () => startPantheonProcess({ env: env(), dataDir: join(dir.path, 'data'), cwd: dir.path });
    fake.clear();
    let app = await start();
    try {
      fake.enqueue(
        {
          text: 'I will tell the ops room.',
          toolCalls: [{ name: 'post_message', args: { conversation: 'ops-room', text: 'Deploy at 17:00 today.', reason: 'alice asked me to announce the deploy' } }],
        },
        { text: 'Posted the deploy time in ops-room.' },
      );
      await postMessage(app.url, 'announce', { text: '@athena tell ops-room we deploy at 17:00', user: 'alice' });
      const request = await waitForMessage(app.url, 'announce', (m) => m.role === 'system' && /Approval needed/.test(m.text));
      const id = approvalIdIn(request.text)!;
      assert.ok(id, request.text);
      assert.match(request.text, /athena wants to run post_message/);
      assert.match(request.text, /Deploy at 17:00 today/);
      assert.match(request.text, /alice asked me to announce the deploy/);
      // The approver is told in their own conversation (the notifier's post follows the thread's).
      await waitForMessage(app.url, 'dm-jeff', (m) => m.text.includes(`[${id}]`));
      assert.deepEqual(await getMessages(app.url, 'ops-room'), [], 'nothing posted before approval');

      await postMessage(app.url, 'announce', { text: `approve ${id}`, user: 'carol' });
      const refusal = await waitForMessage(app.url, 'announce', (m) => m.role === 'system' && /not an approver/.test(m.text));
      assert.match(refusal.text, /carol is not an approver/);
      await sleep(300);
      assert.deepEqual(await getMessages(app.url, 'ops-room'), []);

      // The pending approval survives a restart.
      assert.equal(await app.stop(), 0);
      app = await start();
      await postMessage(app.url, 'announce', { text: `approve ${id}`, user: 'jeff' });
      await waitForMessage(app.url, 'announce', (m) => m.text === 'Posted the deploy time in ops-room.');
      const ops = await getMessages(app.url, 'ops-room');
      assert.deepEqual(
        ops.map((m) => [m.role, m.persona, m.text]),
        [['agent', 'athena', 'Deploy at 17:00 today.']],
      );
      const afterTool = fake.requests.at(-1)!;
      assert.match(afterTool.messages.find((m) => m.role === 'tool')?.content ?? '', /ops-room/);
      assert.equal(fake.requests.length, 2, 'the model was not called again while the run waited');

      // Deny: the persona is told and carries on without the tool.
      fake.enqueue({ toolCalls: [{ name: 'post_message', args: { conversation: 'ops-room', text: 'Rollback now!', reason: 'panic' } }] }, { text: 'Understood, not posting it.' });
      await postMessage(app.url, 'announce', { text: '@athena tell ops-room to roll back', user: 'alice' });
      const second = await waitForMessage(app.url, 'announce', (m) => m.role === 'system' && /Approval needed/.test(m.text) && !m.text.includes(`[${id}]`));
      const id2 = approvalIdIn(second.text)!;
      await postMessage(app.url, 'announce', { text: `deny ${id2} not during the freeze`, user: 'jeff' });
      await waitForMessage(app.url, 'announce', (m) => m.text === 'Understood, not posting it.');
      assert.match(fake.requests.at(-1)!.messages.find((m) => m.role === 'tool' && /Not run/.test(m.content))?.content ?? '', /denied by jeff.*not during the freeze/);
      assert.equal((await getMessages(app.url, 'ops-room')).length, 1, 'the denied post never happened');
      const texts = (await getMessages(app.url, 'announce')).map((m) => m.text);
      assert.ok(texts.some((t) => /Denied by jeff: athena will not run post_message/.test(t)));

      const audit = ((await (await fetch(`${app.url}/api/audit`, { headers: app.auth })).json()) as { entries: AuditRow[] }).entries;
      const calls = audit.filter((e) => e.kind === 'tool_call' && e.tool === 'post_message');
      assert.deepEqual(
        calls.map((e) => [e.outcome, e.approvalId]).sort(),
        [
          ['denied', id2],
          ['ok', id],
        ].sort(),
      );
      const decisions = audit.filter((e) => e.kind === 'approval_decision').map((e) => [e.approvalId, e.actor, e.outcome]);
      assert.deepEqual(
        decisions.sort(),
        [
          [id, 'carol', 'refused_not_approver'],
          [id, 'jeff', 'approved'],
          [id2, 'jeff', 'denied_by_human'],
        ].sort(),
      );
    } finally {
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });

  it('kill -9 during a run with a side-effecting tool: after restart the run resumes from its checkpoint and the side effect happens once', async () => {
    const dir = await tempDir();
    fake.clear();
    let app = await startPantheonProcess({ env: env(), dataDir: dir.path });
    try {
      fake.enqueue({ toolCalls: [{ name: 'post_message', args: { conversation: 'side', text: 'exactly once', reason: 'test' } }] }, { text: 'never seen', delayMs: 8000 });
      await postMessage(app.url, 'crashy', { text: '@athena post "exactly once" to side', user: 'alice' });
      for (let i = 0; i < 400 && fake.requests.length < 2; i++) await sleep(25);
      assert.equal(fake.requests.length, 2, 'the tool ran and the second model call is in flight');
      assert.equal((await getMessages(app.url, 'side')).length, 1);
      app.child.kill('SIGKILL');
      await new Promise((r) => app.child.once('exit', r));

      fake.enqueue({ text: 'Done, posted once.' });
      app = await startPantheonProcess({ env: env(), dataDir: dir.path });
      await waitForMessage(app.url, 'crashy', (m) => m.text === 'Done, posted once.');
      assert.deepEqual(
        (await getMessages(app.url, 'side')).map((m) => m.text),
        ['exactly once'],
      );
      const audit = ((await (await fetch(`${app.url}/api/audit?tool=post_message`, { headers: app.auth })).json()) as { entries: AuditRow[] }).entries;
      assert.equal(audit.length, 1, 'the tool itself ran once: the resumed run started after it');
      const resumed = fake.requests.at(-1)!;
      assert.equal(resumed.messages.filter((m) => m.role === 'tool').length, 1);
      assert.equal(resumed.messages.filter((m) => m.role === 'user').length, 1);
    } finally {
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });
});
