import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startFakeDiscord, type FakeDiscord } from '../fakes/discord/index.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github/index.js';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack/index.js';
import { startFakeMattermost, type FakeMattermost } from '../fakes/mattermost/index.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram/index.js';
import { cleanEnv, runCli, tempDir } from '../support/pantheon-process.js';

const unusedPort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const persona = (id: string, role: string, t: { mattermost: string; slack: string; discord: string; github: string }) =>
  [
    `id: ${id}`,
    `name: ${id}`,
    `role: ${role}`,
    `description: ${id} of the test team.`,
    'tools: [memory, handoff]',
    `prompt: I am ${id}.`,
    'handles:',
    `  mattermost: { token: "${t.mattermost}" }`,
    `  slack: { botToken: "${t.slack}" }`,
    `  discord: { token: "${t.discord}" }`,
    `github: { login: ${id}-bot, token: "${t.github}" }`,
    '',
  ].join('\n');

/**
 * `pantheon doctor` against a deliberately broken setup: a model key the provider refuses;
 * Mattermost, Slack, Discord and GitHub tokens the fakes refuse (next to ones they accept); a
 * Telegram token it refuses; a Slack Request URL (HTTP mode) and a GitHub repository webhook that
 * reach nothing; a Redis nobody listens on and a known_hosts file that does not exist. Each
 * problem is one line with its fix, and the exit code is 1.
 */
describe('pantheon doctor names each problem of a broken setup with its fix', () => {
  let llm: FakeLLM;
  let mattermost: FakeMattermost;
  let telegram: FakeTelegram;
  let slack: FakeSlack;
  let discord: FakeDiscord;
  let github: FakeGitHub;
  let deadPort: number;
  let dir: { path: string; remove: () => Promise<void> };
  let result: { code: number | null; stdout: string; stderr: string };
  let redisPort: number;

  before(async () => {
    llm = await startFakeLLM();
    mattermost = await startFakeMattermost();
    telegram = await startFakeTelegram();
    slack = await startFakeSlack();
    discord = await startFakeDiscord();
    github = await startFakeGitHub();
    deadPort = await unusedPort();
    const athenaBot = mattermost.addBot('athena-bot');
    const athenaSlack = slack.addApp('athena');
    discord.addBot('athena-discord-token', 'athena-discord');
    const athenaGitHub = github.addUser('athena-bot');
    // athena administers a repository whose webhook points at a server that is not there; GitHub's last delivery failed.
    await github.createRepo('athena-bot', 'api', { 'README.md': '# api\n' });
    github.setWebhook(`http://127.0.0.1:${deadPort}/webhooks/github`, 'whsec-doctor');
    await github.sendWebhook('ping', { zen: 'Keep it logically awesome.', repository: { id: 1, full_name: 'athena-bot/api' } }).catch(() => {});
    dir = await tempDir('pantheon-doctor-broken-');
    await mkdir(join(dir.path, 'personas'));
    await writeFile(
      join(dir.path, 'personas', 'athena.yaml'),
      persona('athena', 'pm', { mattermost: athenaBot.token, slack: athenaSlack.botToken, discord: 'athena-discord-token', github: athenaGitHub.token }),
    );
    await writeFile(
      join(dir.path, 'personas', 'apollo.yaml'),
      persona('apollo', 'developer', { mattermost: 'not-a-mattermost-token', slack: 'xoxb-refused', discord: 'refused-discord-token', github: 'ghp_refused' }),
    );
    await writeFile(
      join(dir.path, 'pantheon.yaml'),
      [
        'models: { default: "openai:gpt-4.1-mini" }',
        'channels:',
        `  mattermost: { url: "${mattermost.url}" }`,
        `  telegram: { token: "999:refused-by-the-fake", apiRoot: "${telegram.apiRoot}" }`,
        `  slack: { mode: http, signingSecret: slack-signing-secret, apiUrl: "${slack.apiUrl}", publicUrl: "http://127.0.0.1:${deadPort}" }`,
        `  discord: { apiUrl: "${discord.apiUrl}" }`,
        `github: { apiUrl: "${github.url}", webhookSecret: whsec-doctor, throttle: false }`,
        'infra:',
        '  knownHosts: ./known_hosts',
        '  hosts:',
        '    - { name: staging-1, address: 10.0.0.5, port: 2222, user: deploy }',
        'sandbox: { backend: none }',
        '',
      ].join('\n'),
    );
    // Every model request is refused as a bad key would be.
    for (let i = 0; i < 10; i++) llm.enqueue({ status: 401, error: 'Incorrect API key provided: sk-bad***' });
    redisPort = await unusedPort();
    const env = cleanEnv({ OPENAI_BASE_URL: llm.openaiBaseUrl, OPENAI_API_KEY: 'sk-bad', REDIS_URL: `redis://127.0.0.1:${redisPort}` });
    result = await runCli(['doctor', '--data-dir', 'data'], { env, cwd: dir.path, timeoutMs: 90_000 });
  });
  after(async () => {
    await llm?.close();
    await mattermost?.close();
    await telegram?.close();
    await slack?.close();
    await discord?.close();
    await github?.close();
    await dir?.remove();
  });

  const line = (pattern: RegExp) => {
    const found = result.stdout.split('\n').find((l) => pattern.test(l));
    assert.ok(found, `no line matching ${pattern} in:\n${result.stdout}\n${result.stderr}`);
    return found;
  };

  it('exits 1, without a stack trace', () => {
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.doesNotMatch(result.stdout + result.stderr, /\n\s+at /);
  });

  it('the refused model key', () => {
    assert.match(line(/✖ model openai:gpt-4\.1-mini/), /Incorrect API key|401/);
  });

  it('the Mattermost token the fake refuses, and the one it accepts', () => {
    assert.match(
      line(/mattermost apollo/),
      /^ {2}✖ mattermost apollo: 127\.0\.0\.1:\d+ refuses the token in handles\.mattermost\.token of apollo \(401 .*\); fix: create a personal access token for apollo's bot account/,
    );
    assert.match(line(/mattermost athena/), /^ {2}✔ mattermost athena: token accepted by 127\.0\.0\.1:\d+ \(@athena-bot\)$/);
  });

  it('the Telegram token the fake refuses', () => {
    assert.match(line(/telegram bot/), /^ {2}✖ telegram bot: .* refuses the token in channels\.telegram\.token \(401 Unauthorized\); fix: ask @BotFather for the bot token/);
  });

  it('the Slack, Discord and GitHub tokens the fakes refuse, and the ones they accept', () => {
    assert.match(
      line(/slack apollo/),
      /^ {2}✖ slack apollo: 127\.0\.0\.1:\d+ refuses the token in handles\.slack\.botToken of apollo \(200 invalid_auth\); fix: copy the Bot User OAuth Token \(xoxb-…\) of apollo's Slack app/,
    );
    assert.match(line(/slack athena/), /^ {2}✔ slack athena: token accepted by 127\.0\.0\.1:\d+ /);
    assert.match(
      line(/discord apollo/),
      /^ {2}✖ discord apollo: 127\.0\.0\.1:\d+ refuses the token in handles\.discord\.token of apollo \(401 .*\); fix: reset the token of apollo's bot \(Discord Developer Portal › Bot\)/,
    );
    assert.match(line(/discord athena/), /^ {2}✔ discord athena: token accepted by 127\.0\.0\.1:\d+ \(athena-discord\)$/);
    assert.match(line(/github apollo/), /^ {2}✖ github apollo: 127\.0\.0\.1:\d+ refuses the token in github\.token of apollo \(401 .*\); fix: create a token for GitHub user apollo-bot/);
    assert.match(line(/github athena/), /^ {2}✔ github athena: token accepted by 127\.0\.0\.1:\d+ \(athena-bot\)$/);
  });

  it('the Slack Request URL and the GitHub webhook that reach nothing', () => {
    assert.match(
      line(/slack webhook/),
      new RegExp(`^ {2}✖ slack webhook: http://127\\.0\\.0\\.1:${deadPort}/webhooks/slack/events cannot be reached \\(.*\\); fix: make channels\\.slack\\.publicUrl reach this server`),
    );
    assert.match(
      line(/github webhook/),
      new RegExp(
        `^ {2}✖ github webhook athena-bot/api: GitHub's last delivery to http://127\\.0\\.0\\.1:${deadPort}/webhooks/github failed \\(502 .*\\); fix: make that URL reach this server's /webhooks/github`,
      ),
    );
  });

  it('the unreachable Redis', () => {
    assert.match(line(/redis:/), new RegExp(`^ {2}✖ redis: 127\\.0\\.0\\.1:${redisPort} does not answer \\(.*\\); fix: start Redis there, or correct REDIS_URL / redis\\.url$`));
  });

  it('the missing known_hosts', () => {
    assert.match(line(/known_hosts/), /^ {2}✖ known_hosts: .*known_hosts does not exist, so every SSH host is refused; fix: ssh-keyscan -p 2222 10\.0\.0\.5 >> .*known_hosts/);
  });
});
