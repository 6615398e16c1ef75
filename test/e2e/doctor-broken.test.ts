import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
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

const persona = (id: string, role: string, token: string) =>
  [`id: ${id}`, `name: ${id}`, `role: ${role}`, `description: ${id} of the test team.`, 'tools: [memory, handoff]', `prompt: I am ${id}.`, 'handles:', `  mattermost: { token: "${token}" }`, ''].join(
    '\n',
  );

/**
 * `pantheon doctor` against a deliberately broken setup: a model key the provider refuses, a
 * Mattermost token the fake refuses (next to one it accepts), a Telegram token it refuses, a
 * Redis nobody listens on and a known_hosts file that does not exist. Each problem is one line
 * with its fix, and the exit code is 1.
 */
describe('pantheon doctor names each problem of a broken setup with its fix', () => {
  let llm: FakeLLM;
  let mattermost: FakeMattermost;
  let telegram: FakeTelegram;
  let dir: { path: string; remove: () => Promise<void> };
  let result: { code: number | null; stdout: string; stderr: string };
  let redisPort: number;

  before(async () => {
    llm = await startFakeLLM();
    mattermost = await startFakeMattermost();
    telegram = await startFakeTelegram();
    const athenaBot = mattermost.addBot('athena-bot');
    dir = await tempDir('pantheon-doctor-broken-');
    await mkdir(join(dir.path, 'personas'));
    await writeFile(join(dir.path, 'personas', 'athena.yaml'), persona('athena', 'pm', athenaBot.token));
    await writeFile(join(dir.path, 'personas', 'apollo.yaml'), persona('apollo', 'developer', 'not-a-mattermost-token'));
    await writeFile(
      join(dir.path, 'pantheon.yaml'),
      [
        'models: { default: "openai:gpt-4.1-mini" }',
        'channels:',
        `  mattermost: { url: "${mattermost.url}" }`,
        `  telegram: { token: "999:refused-by-the-fake", apiRoot: "${telegram.apiRoot}" }`,
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

  it('the unreachable Redis', () => {
    assert.match(line(/redis:/), new RegExp(`^ {2}✖ redis: 127\\.0\\.0\\.1:${redisPort} does not answer \\(.*\\); fix: start Redis there, or correct REDIS_URL / redis\\.url$`));
  });

  it('the missing known_hosts', () => {
    assert.match(line(/known_hosts/), /^ {2}✖ known_hosts: .*known_hosts does not exist, so every SSH host is refused; fix: ssh-keyscan -p 2222 10\.0\.0\.5 >> .*known_hosts/);
  });
});
