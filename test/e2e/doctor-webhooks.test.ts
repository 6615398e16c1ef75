import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github/index.js';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack/index.js';
import { modelEnv, runCli, startPantheonProcess, tempDir, type RunningPantheon } from '../support/pantheon-process.js';

const unusedPort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/**
 * `pantheon doctor` next to a running server whose webhooks work: Slack in HTTP mode (doctor sends
 * Slack's URL check, signed, to `channels.slack.publicUrl` and the server answers it) and a
 * GitHub repository webhook whose last delivery the server accepted (read from the hooks API with
 * the token of the persona administering the repository). The counterparts that fail are in
 * doctor-broken.test.ts.
 */
describe('pantheon doctor: webhooks that reach the running server pass', () => {
  let llm: FakeLLM;
  let slack: FakeSlack;
  let github: FakeGitHub;
  let dir: { path: string; remove: () => Promise<void> };
  let server: RunningPantheon;
  let result: { code: number | null; stdout: string; stderr: string };

  before(async () => {
    llm = await startFakeLLM();
    slack = await startFakeSlack();
    github = await startFakeGitHub();
    const port = await unusedPort();
    const app = slack.addApp('athena');
    const athena = github.addUser('athena-bot');
    await github.createRepo('athena-bot', 'api', { 'README.md': '# api\n' });
    dir = await tempDir('pantheon-doctor-webhooks-');
    await mkdir(join(dir.path, 'personas'));
    await writeFile(
      join(dir.path, 'personas', 'athena.yaml'),
      [
        'id: athena',
        'name: Athena',
        'role: pm',
        'description: PM.',
        'tools: [handoff]',
        'prompt: I scope work.',
        'handles:',
        `  slack: { botToken: "${app.botToken}" }`,
        `github: { login: athena-bot, token: "${athena.token}" }`,
        '',
      ].join('\n'),
    );
    await writeFile(
      join(dir.path, 'pantheon.yaml'),
      [
        'channels:',
        `  slack: { mode: http, signingSecret: slack-signing-secret, apiUrl: "${slack.apiUrl}", publicUrl: "http://127.0.0.1:${port}" }`,
        `github: { apiUrl: "${github.url}", webhookSecret: whsec-good, throttle: false }`,
        'sandbox: { backend: none }',
        '',
      ].join('\n'),
    );
    const env = modelEnv(llm);
    server = await startPantheonProcess({ env, dataDir: join(dir.path, 'data'), cwd: dir.path, args: ['--port', String(port)] });
    github.setWebhook(`${server.url}/webhooks/github`, 'whsec-good');
    const ping = await github.sendWebhook('ping', { zen: 'Design for failure.', hook_id: 424242, repository: { id: 1, full_name: 'athena-bot/api' } });
    assert.ok(ping.status < 300, `the server accepted the delivery (${ping.status})`);
    result = await runCli(['doctor', '--data-dir', join(dir.path, 'data'), '--url', server.url], { env, cwd: dir.path, timeoutMs: 90_000 });
  });
  after(async () => {
    await server?.stop();
    await slack?.close();
    await github?.close();
    await llm?.close();
    await dir?.remove();
  });

  const line = (pattern: RegExp) => {
    const found = result.stdout.split('\n').find((l) => pattern.test(l));
    assert.ok(found, `no line matching ${pattern} in:\n${result.stdout}\n${result.stderr}`);
    return found;
  };

  it("Slack's URL check, sent to channels.slack.publicUrl, is answered by the server", () => {
    assert.equal(line(/slack webhook/), `  ✔ slack webhook: ${server.url}/webhooks/slack/events answers Slack's URL check`);
  });

  it("the repository webhook's last delivery reached the server", () => {
    assert.match(line(/github webhook/), new RegExp(`^ {2}✔ github webhook athena-bot/api: ${server.url.replace(/\./g, '\\.')}/webhooks/github \\(last delivery 20\\d\\)$`));
  });

  it('the tokens pass', () => {
    assert.match(line(/slack athena/), /^ {2}✔ slack athena: token accepted/);
    assert.match(line(/github athena/), /^ {2}✔ github athena: token accepted by 127\.0\.0\.1:\d+ \(athena-bot\)$/);
  });
});
