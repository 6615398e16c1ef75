import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM, type FakeLLMRequest } from '../fakes/llm/index.js';
import { startFakeSlack, type FakeSlack, type FakeSlackApp } from '../fakes/slack/index.js';
import { modelEnv, postMessage, startPantheonProcess, tempDir, waitForMessage } from '../support/pantheon-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const personaOf = (r: FakeLLMRequest) => /@([a-z0-9-]+)\)/.exec(r.messages[0]?.content ?? '')?.[1] ?? '?';
const isSummary = (r: FakeLLMRequest) => /You write the team's memory of a conversation/.test(r.messages[0]?.content ?? '');
const JEFF = 'U0JEFF';

/**
 * Issue 16, part 4: idle conversations are summarised into the shared memory from every platform,
 * not only the local chat. A Slack thread (fake Slack, real Bolt, the real process) goes quiet; its
 * summary (what jeff said and what apollo answered) is stored in team memory and recalled by
 * another persona, athena, in another conversation.
 */
describe('memory summaries from a Slack thread', () => {
  let llm: FakeLLM;
  let slack: FakeSlack;
  let apollo: FakeSlackApp;
  before(async () => {
    llm = await startFakeLLM();
    slack = await startFakeSlack();
    apollo = slack.addApp('apollo');
    slack.addUser({ id: JEFF, name: 'jeff' });
  });
  after(async () => {
    await slack.close();
    await llm.close();
  });

  it('a Slack thread that goes idle is summarised into memory and recalled by athena elsewhere', { timeout: 120_000 }, async () => {
    const dir = await tempDir('pantheon-slack-memory-');
    await mkdir(join(dir.path, 'personas'));
    const persona = (id: string, role: string, slackHandle: boolean) =>
      writeFile(
        join(dir.path, 'personas', `${id}.yaml`),
        [
          `id: ${id}`,
          `name: ${id[0]!.toUpperCase()}${id.slice(1)}`,
          `role: ${role}`,
          `description: ${id} of the test team.`,
          'tools: [memory]',
          `prompt: I am ${id}.`,
          ...(slackHandle ? ['handles:', `  slack: { botToken: "\${${id.toUpperCase()}_SLACK_BOT_TOKEN}", appToken: "\${${id.toUpperCase()}_SLACK_APP_TOKEN}" }`] : []),
        ].join('\n'),
      );
    await persona('apollo', 'developer', true);
    await persona('athena', 'pm', false);
    await writeFile(
      join(dir.path, 'pantheon.yaml'),
      ['humans:', `  - { id: jeff, local: jeff, slack: ${JEFF} }`, 'channels:', '  slack: { mode: socket, apiUrl: "${SLACK_API_URL}" }', 'memory:', '  summarizeAfterIdleMinutes: 0.03'].join('\n'),
    );
    llm.setResponder((req) => {
      if (isSummary(req)) {
        const transcript = req.messages.at(-1)!.content;
        if (!/PAY-ROT-7/.test(transcript)) return { text: 'NOTHING' };
        return { text: 'Facts:\n- The payments webhook secret rotates every Friday at 10:00 UTC (runbook PAY-ROT-7); apollo owns it.' };
      }
      if (personaOf(req) === 'apollo') return { text: 'Noted: I will rotate it every Friday at 10:00 UTC with PAY-ROT-7.' };
      return { text: 'It rotates on Fridays at 10:00 UTC, see PAY-ROT-7.' };
    });
    const env = modelEnv(llm, { SLACK_API_URL: slack.apiUrl, APOLLO_SLACK_BOT_TOKEN: apollo.botToken, APOLLO_SLACK_APP_TOKEN: apollo.appToken });
    const app = await startPantheonProcess({ env, dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 90_000 });
    try {
      await slack.waitForConnections(1);
      const root = await slack.say({ user: JEFF, channel: 'C0PAY', text: `<@${apollo.botUserId}> the payments webhook secret rotates on Fridays at 10:00 UTC, runbook PAY-ROT-7` });
      const deadline = Date.now() + 15_000;
      while (!slack.postsBy(apollo.botToken).some((m) => m.channel === 'C0PAY' && m.threadTs === root.ts)) {
        if (Date.now() > deadline) throw new Error(`apollo did not answer in Slack\n${app.stderr().slice(-2000)}`);
        await sleep(50);
      }

      // The thread goes quiet: its summary lands in team memory, from the Slack thread.
      let summary: { content: string; source: string; scope: string } | undefined;
      for (let i = 0; i < 80 && !summary; i++) {
        await sleep(250);
        const res = await fetch(`${app.url}/api/memory?q=${encodeURIComponent('payments webhook secret rotation PAY-ROT-7')}`, { headers: app.auth });
        const body = (await res.json()) as { hits?: Array<{ memory: { kind: string; content: string; source: string; scope: string } }> };
        summary = body.hits?.find((h) => h.memory.kind === 'summary')?.memory;
      }
      assert.ok(summary, `the idle Slack thread was summarised\n${app.stderr().slice(-2000)}`);
      assert.match(summary.source, /^slack:/);
      assert.equal(summary.scope, 'team');
      assert.match(summary.content, /PAY-ROT-7/);
      const asked = llm.requests.find(isSummary)!;
      assert.match(
        asked.messages.at(-1)!.content,
        /\[jeff\] @apollo the payments webhook secret rotates on Fridays at 10:00 UTC, runbook PAY-ROT-7\n\[apollo\] Noted: I will rotate it/,
        'the transcript: what jeff said and what apollo posted',
      );

      // Athena, in the local chat, is asked about it: the Slack thread's summary is in her prompt.
      await postMessage(app.url, 'ops-questions', { text: '@athena when does the payments webhook secret rotate?', user: 'jeff' });
      await waitForMessage(app.url, 'ops-questions', (m) => m.role === 'agent');
      const athena = llm.requests.filter((r) => personaOf(r) === 'athena').at(-1)!;
      const system = athena.messages
        .filter((m) => m.role === 'system')
        .map((m) => m.content)
        .join('\n');
      assert.match(system, /from slack:[^,]*,.*PAY-ROT-7/s, 'recalled with its Slack source');
    } finally {
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });
});
