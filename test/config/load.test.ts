import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { loadConfig } from '../../core/config/index.js';
import { packageRoot } from '../../core/package-root.js';
import { minimalPersona, tempProject } from './project.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function project(files: Record<string, string> = {}): string {
  const p = tempProject(files);
  cleanups.push(p.cleanup);
  return p.dir;
}

describe('loadConfig without a config file', () => {
  it('uses every default and the built-in sample team', async () => {
    const cwd = project();
    const loaded = await loadConfig({ cwd, env: {} });
    assert.equal(loaded.source, 'defaults');
    assert.equal(loaded.configFile, undefined);
    assert.equal(loaded.builtInTeam, true);
    assert.equal(loaded.personasDir, join(packageRoot(), 'personas', 'team'));
    assert.deepEqual(loaded.personas.map((p) => p.id).sort(), ['apollo', 'artemis', 'athena', 'hephaestus', 'hermes', 'perseus']);
    const c = loaded.config;
    const { limits, ...server } = c.server;
    assert.deepEqual(server, { port: 3000, allowedHosts: [], bodyLimitBytes: 262144 });
    assert.equal(limits.streamsPerCredential, 64);
    assert.equal(c.dataDir, join(cwd, '.pantheon'));
    assert.deepEqual(c.policy.risk, { read: 'allow', write: 'allow', destructive: 'ask', infra: 'ask' });
    assert.equal(c.models.timeoutMs, 60000);
    assert.equal(c.models.maxRetries, 2);
    assert.equal(c.github.apiUrl, 'https://api.github.com');
    assert.equal(c.orchestrator.defaultPersona, 'athena');
    assert.deepEqual(c.humans, []);
    assert.deepEqual(c.infra.hosts, []);
    assert.equal(c.database.url, undefined);
  });
});

const FULL = `
server: { port: 8080, host: 0.0.0.0, bodyLimitBytes: 1000 }
dataDir: ./state
database: { url: postgres://localhost/pantheon }
redis: { url: redis://localhost:6379 }
models:
  default: anthropic:claude-sonnet-4-5
  fallback: [openai:gpt-4.1-mini]
  timeoutMs: 30000
  maxRetries: 0
  providers:
    ollama: { type: openai, baseUrl: http://localhost:11434/v1 }
  pricing:
    anthropic:claude-sonnet-4-5: { inputPerMTok: 3, outputPerMTok: 15 }
humans:
  - { id: jeff, local: jeff, telegram: 123456789, mattermost: jeff, slack: U0123, github: jeff, approver: true }
  - { id: ana }
bindings:
  - { channel: "mattermost:town-square", persona: pallas }
policy:
  risk: { destructive: deny }
  tools: { github_merge_pull_request: deny }
github: { apiUrl: http://127.0.0.1:9999, webhookSecret: "\${GITHUB_WEBHOOK_SECRET}" }
channels:
  local: {}
  mattermost: { url: https://chat.example.com }
  slack: { mode: http, signingSecret: "\${SLACK_SIGNING_SECRET}" }
  telegram: { token: "\${TELEGRAM_BOT_TOKEN}", mode: polling, allowedChatIds: [123456789] }
  discord: {}
infra:
  knownHosts: ./known_hosts
  hosts:
    - { name: staging-1, address: 10.0.0.5, port: 2222, user: deploy, privateKey: keys/id_ed25519 }
    - { name: prod-1, address: 10.0.0.6, user: deploy, agent: true }
console: { token: "\${CONSOLE}" }
orchestrator: { defaultPersona: pallas }
`;

describe('loadConfig with a full pantheon.yaml', () => {
  it('reads every section, resolves paths against the file, and loads personas next to it', async () => {
    const cwd = project({
      'pantheon.yaml': FULL,
      'personas/pallas.yaml': minimalPersona('pallas', 'role: pm\n').replace('role: developer\n', ''),
      'personas/vulcan.yml': minimalPersona('vulcan'),
    });
    const env = { GITHUB_WEBHOOK_SECRET: 'whsec-123456', SLACK_SIGNING_SECRET: 'sss-123456', TELEGRAM_BOT_TOKEN: '1:abc', CONSOLE: 'console-token' };
    const { config, personas, source, configFile, builtInTeam, notices } = await loadConfig({ cwd, env });
    assert.equal(source, 'file');
    assert.equal(configFile, join(cwd, 'pantheon.yaml'));
    assert.equal(builtInTeam, false);
    assert.deepEqual(notices, []);
    assert.deepEqual(
      personas.map((p) => p.id),
      ['pallas', 'vulcan'],
    );
    const { limits: _limits, ...server } = config.server;
    assert.deepEqual(server, { port: 8080, host: '0.0.0.0', allowedHosts: [], bodyLimitBytes: 1000 });
    assert.equal(config.dataDir, join(cwd, 'state'));
    assert.equal(config.database.url, 'postgres://localhost/pantheon');
    assert.equal(config.models.default, 'anthropic:claude-sonnet-4-5');
    assert.deepEqual(config.models.fallback, ['openai:gpt-4.1-mini']);
    assert.equal(config.models.maxRetries, 0);
    assert.deepEqual(config.models.providers, { ollama: { type: 'openai', baseUrl: 'http://localhost:11434/v1' } });
    assert.deepEqual(config.models.pricing?.['anthropic:claude-sonnet-4-5'], { inputPerMTok: 3, outputPerMTok: 15 });
    assert.deepEqual(config.humans[0], { id: 'jeff', local: 'jeff', telegram: 123456789, mattermost: 'jeff', slack: 'U0123', github: 'jeff', approver: true });
    assert.deepEqual(config.humans[1], { id: 'ana', approver: false });
    assert.deepEqual(config.policy, { risk: { read: 'allow', write: 'allow', destructive: 'deny', infra: 'ask' }, tools: { github_merge_pull_request: 'deny' }, approvalTtlMinutes: 1440 });
    assert.deepEqual(config.github, { apiUrl: 'http://127.0.0.1:9999', webhookSecret: 'whsec-123456', throttle: true, polling: { enabled: false, intervalSeconds: 60 }, permissionCacheSeconds: 300 });
    assert.deepEqual(config.channels.slack, { mode: 'http', signingSecret: 'sss-123456' });
    assert.deepEqual(config.channels.telegram, { token: '1:abc', mode: 'polling', allowedChatIds: [123456789] });
    assert.deepEqual(config.channels.discord, {});
    assert.equal(config.infra.knownHosts, join(cwd, 'known_hosts'));
    assert.deepEqual(config.infra.hosts[0], { name: 'staging-1', address: '10.0.0.5', port: 2222, user: 'deploy', privateKey: join(cwd, 'keys/id_ed25519') });
    assert.equal(config.infra.hosts[1]!.port, 22);
    assert.equal(config.infra.hosts[1]!.agent, true);
    assert.equal(config.console.token, 'console-token');
    assert.equal(config.orchestrator.defaultPersona, 'pallas');
  });

  it('falls back to the built-in team, and says so, when the personas directory is missing', async () => {
    const cwd = project({ 'pantheon.yaml': 'server: { port: 4000 }\n' });
    const loaded = await loadConfig({ cwd, env: {} });
    assert.equal(loaded.builtInTeam, true);
    assert.equal(loaded.personas.length, 6);
    assert.match(loaded.notices[0]!, /no persona directory at personas; using the built-in sample team/);
  });

  it('picks the team PM as default persona when the team has no athena', async () => {
    const cwd = project({
      'pantheon.yaml': '{}\n',
      'personas/a.yaml': minimalPersona('dev'),
      'personas/b.yaml': minimalPersona('boss').replace('role: developer', 'role: pm'),
    });
    const { config } = await loadConfig({ cwd, env: {} });
    assert.equal(config.orchestrator.defaultPersona, 'boss');
  });
});

describe('${VAR} interpolation', () => {
  it('substitutes, falls back, escapes, and drops handles whose secrets are unset', async () => {
    const cwd = project({
      'pantheon.yaml': 'models: { default: "${MODEL:-openai:gpt-4.1-mini}" }\nconsole: { token: "${UNSET_TOKEN}" }\n',
      'personas/apollo.yaml': `${minimalPersona('apollo')}
description: "Deploys to \${REGION} and writes $\${NOT_A_VAR} literally"
lens: "\${INJECT}"
handles:
  mattermost: { token: "\${APOLLO_MATTERMOST_TOKEN}" }
  slack: { botToken: "\${APOLLO_SLACK_BOT_TOKEN}", appToken: "\${APOLLO_SLACK_APP_TOKEN}" }
  discord: { token: "\${APOLLO_DISCORD_TOKEN:-fallback-discord}" }
github: { login: apollo-bot, token: "\${APOLLO_GITHUB_TOKEN}" }
`.replace('description: Writes code.\n', ''),
    });
    const env = { REGION: 'eu-west-1', APOLLO_MATTERMOST_TOKEN: 'mm-token-1', INJECT: 'x\nrole: pm\n{a: b}' };
    const { config, personas } = await loadConfig({ cwd, env });
    const apollo = personas[0]!;
    assert.equal(config.models.default, 'openai:gpt-4.1-mini');
    assert.equal(config.console.token, undefined);
    assert.equal(apollo.description, 'Deploys to eu-west-1 and writes ${NOT_A_VAR} literally');
    assert.equal(apollo.lens, 'x\nrole: pm\n{a: b}', 'a variable cannot inject YAML');
    assert.equal(apollo.role, 'developer');
    assert.deepEqual(apollo.handles, { mattermost: { token: 'mm-token-1' }, discord: { token: 'fallback-discord' } });
    assert.deepEqual(apollo.github, { login: 'apollo-bot' });
  });

  it('keeps a partly set slack handle and names the missing variable when a required token is unset', async () => {
    const persona = `${minimalPersona('apollo')}handles:\n  slack: { botToken: "\${BOT}", appToken: "\${APP}" }\n`;
    const cwd = project({ 'pantheon.yaml': '{}\n', 'personas/apollo.yaml': persona });
    const ok = await loadConfig({ cwd, env: { BOT: 'xoxb-1' } });
    assert.deepEqual(ok.personas[0]!.handles, { slack: { botToken: 'xoxb-1' } });
    await assert.rejects(loadConfig({ cwd, env: { APP: 'xapp-1' } }), {
      name: 'ConfigError',
      message: 'personas/apollo.yaml: handles.slack.botToken: is required, but it came out empty because $BOT is not set',
    });
  });
});

describe('environment overrides', () => {
  it('applies DATABASE_URL, REDIS_URL, PORT, PANTHEON_CONSOLE_TOKEN and --data-dir', async () => {
    const cwd = project({ 'pantheon.yaml': 'server: { port: 4000 }\ndatabase: { url: postgres://file/db }\ndataDir: from-file\n' });
    const env = { DATABASE_URL: 'postgres://env/db', REDIS_URL: 'redis://env:6379', PORT: '5000', PANTHEON_CONSOLE_TOKEN: 'tok-abcdef' };
    const { config } = await loadConfig({ cwd, env, dataDir: 'cli-data' });
    assert.equal(config.database.url, 'postgres://env/db');
    assert.equal(config.redis.url, 'redis://env:6379');
    assert.equal(config.server.port, 5000);
    assert.equal(config.console.token, 'tok-abcdef');
    assert.equal(config.dataDir, join(cwd, 'cli-data'));
  });

  it('lets --port win over PORT, and accepts port 0', async () => {
    const cwd = project();
    const { config } = await loadConfig({ cwd, env: { PORT: '5000' }, port: 0 });
    assert.equal(config.server.port, 0);
  });

  it('finds the file from PANTHEON_CONFIG, and --config over it', async () => {
    const cwd = project({ 'a.yaml': 'server: { port: 1111 }\n', 'b.yaml': 'server: { port: 2222 }\n' });
    assert.equal((await loadConfig({ cwd, env: { PANTHEON_CONFIG: 'a.yaml' } })).config.server.port, 1111);
    assert.equal((await loadConfig({ cwd, env: { PANTHEON_CONFIG: 'a.yaml' }, configPath: join(cwd, 'b.yaml') })).config.server.port, 2222);
  });

  it('rejects a bad PORT naming the environment', async () => {
    await assert.rejects(loadConfig({ cwd: project(), env: { PORT: 'http' } }), {
      name: 'ConfigError',
      message: 'environment: PORT: expected a port number between 0 and 65535, got the value of $PORT',
    });
  });
});
