import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../core/config/index.js';
import { tempProject } from './project.js';

const SECRET = 'hunter2-very-secret-value';
const cleanups: (() => void)[] = [];
after(() => {
  for (const c of cleanups) c();
});

function project(yaml: string, files: Record<string, string> = {}): string {
  const p = tempProject({ 'pantheon.yaml': yaml, ...files });
  cleanups.push(p.cleanup);
  return p.dir;
}

async function configError(cwd: string, env: NodeJS.ProcessEnv): Promise<ConfigError> {
  try {
    await loadConfig({ cwd, env });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('the configuration was accepted');
}

describe('configuration errors never print a value that came from a variable', () => {
  it('a secret in a mistyped field is named by its variable', async () => {
    const err = await configError(project('server:\n  port: "${SECRET_VAR}"\n'), { SECRET_VAR: SECRET });
    assert.equal(err.message, 'pantheon.yaml: server.port: expected a number, got the value of $SECRET_VAR');
    assert.ok(!err.message.includes(SECRET));
  });

  it('a partial substitution names every variable in it, and shows none of the text', async () => {
    const err = await configError(project('redis:\n  url: "redis://${REDIS_USER}:${REDIS_PASSWORD}@cache:notaport"\n'), {
      REDIS_USER: 'admin',
      REDIS_PASSWORD: SECRET,
    });
    assert.match(err.message, /^pantheon\.yaml: redis\.url: expected a redis:\/\/ or rediss:\/\/ URL.*, got a value built from \$REDIS_USER, \$REDIS_PASSWORD$/);
    assert.ok(!err.message.includes(SECRET) && !err.message.includes('admin'));
  });

  it('a secret read from FOO_FILE is named by FOO_FILE', async () => {
    const cwd = project('server:\n  port: "${API_SECRET}"\n', { 'secret.txt': `${SECRET}\n` });
    const err = await configError(cwd, { API_SECRET_FILE: `${cwd}/secret.txt` });
    assert.equal(err.message, 'pantheon.yaml: server.port: expected a number, got the value of $API_SECRET_FILE');
    assert.ok(!err.message.includes(SECRET));
  });

  it('FOO_FILE sets FOO (less the trailing newline); FOO itself wins', async () => {
    const cwd = project('console:\n  token: "${TOKEN}"\n', { 'token.txt': 'from-the-file\n' });
    assert.equal((await loadConfig({ cwd, env: { TOKEN_FILE: `${cwd}/token.txt` } })).config.console.token, 'from-the-file');
    assert.equal((await loadConfig({ cwd, env: { TOKEN: 'direct', TOKEN_FILE: `${cwd}/token.txt` } })).config.console.token, 'direct');
  });

  it('an unreadable FOO_FILE names the field and the file', async () => {
    const err = await configError(project('console:\n  token: "${TOKEN}"\n'), { TOKEN_FILE: '/nonexistent/token' });
    assert.equal(err.message, 'pantheon.yaml: console.token: $TOKEN_FILE names /nonexistent/token, which cannot be read (ENOENT)');
  });

  it('an environment override (REDIS_URL, DATABASE_URL) is named, not shown', async () => {
    const cwd = project('{}\n');
    const redis = await configError(cwd, { REDIS_URL: `redis//:${SECRET}@cache:6379` });
    assert.match(redis.message, /^pantheon\.yaml: redis\.url: expected a redis:\/\/ or rediss:\/\/ URL.*, got the value of \$REDIS_URL$/);
    const db = await configError(cwd, { DATABASE_URL: `mysql://root:${SECRET}@db/x` });
    assert.match(db.message, /^pantheon\.yaml: database\.url: expected a postgres:\/\/ or postgresql:\/\/ URL.*, got the value of \$DATABASE_URL$/);
    assert.ok(!redis.message.includes(SECRET) && !db.message.includes(SECRET));
  });
});

/** pantheon.yaml with one scheduled check of `kind` whose `url` is `url`. */
const schedule = (kind: string, url: string) => `infra:\n  schedule:\n    - { name: api, every: 1m, channel: "local:ops", check: { kind: ${kind}, url: "${url}" } }\n`;

describe('every URL in the configuration is validated', () => {
  const cases: [string, string, RegExp][] = [
    ['redis:\n  url: "localhost:6379"\n', 'redis.url', /expected a redis:\/\/ or rediss:\/\/ URL/],
    ['redis:\n  url: "http://cache:6379"\n', 'redis.url', /expected a redis:\/\/ or rediss:\/\/ URL/],
    ['database:\n  url: "postgres://u:pw@db:notaport/x"\n', 'database.url', /expected a postgres:\/\/ or postgresql:\/\/ URL/],
    ['memory:\n  embedder:\n    baseUrl: "ftp://embed"\n', 'memory.embedder.baseUrl', /expected an http\(s\) URL/],
    ['github:\n  apiUrl: "not a url"\n', 'github.apiUrl', /expected an http\(s\) URL/],
    ['models:\n  providers:\n    ollama: { type: openai, baseUrl: "localhost:11434" }\n', 'models.providers.ollama.baseUrl', /expected an http\(s\) URL/],
    ['channels:\n  mattermost: { url: "chat.example.com" }\n', 'channels.mattermost.url', /expected an http\(s\) URL/],
    ['channels:\n  telegram: { webhookUrl: "tg.example.com/hook" }\n', 'channels.telegram.webhookUrl', /expected an http\(s\) URL/],
    [schedule('http', 'api.example.com/healthz'), 'infra.schedule[0].check.url', /^expected an http\(s\) URL such as/],
    [schedule('http', 'ftp://api.example.com/'), 'infra.schedule[0].check.url', /^expected an http\(s\) URL such as/],
    [schedule('tls', 'api.example.com/path'), 'infra.schedule[0].check.url', /^expected an http\(s\) URL or host\[:port\]/],
    [schedule('tls', 'api.example.com:99999'), 'infra.schedule[0].check.url', /^expected an http\(s\) URL or host\[:port\]/],
    [schedule('tls', 'not a host'), 'infra.schedule[0].check.url', /^expected an http\(s\) URL or host\[:port\]/],
  ];
  for (const [yaml, field, problem] of cases) {
    it(`${field}: refused naming the field`, async () => {
      const err = await configError(project(yaml), {});
      assert.equal(err.path, field);
      assert.match(err.problem, problem);
    });
  }

  it('a URL written in the file never shows its password', async () => {
    const err = await configError(project(`database:\n  url: "mysql://root:${SECRET}@db/x"\n`), {});
    assert.ok(!err.message.includes(SECRET), err.message);
    assert.match(err.message, /got "mysql:\/\/root:\*\*\*@db\/x"/);
  });

  it("a scheduled check's url from a variable is named by the variable, not shown", async () => {
    const err = await configError(project(schedule('http', '${PROBE_URL}')), { PROBE_URL: SECRET });
    assert.equal(err.path, 'infra.schedule[0].check.url');
    assert.ok(!err.message.includes(SECRET), err.message);
  });

  it('a scheduled check takes an http(s) URL; a tls check also host[:port]', async () => {
    for (const [kind, url] of [
      ['http', 'https://api.example.com/healthz'],
      ['tls', 'https://api.example.com'],
      ['tls', 'api.example.com:8443'],
      ['tls', '10.0.0.5'],
      ['tls', '[::1]:443'],
    ] as const) {
      const { config } = await loadConfig({ cwd: project(schedule(kind, url)), env: {} });
      assert.equal(config.infra.schedule[0]!.check.url, url);
    }
  });

  it('good URLs are accepted', async () => {
    const cwd = project('database:\n  url: "postgresql://u:pw@db:5432/pantheon"\nredis:\n  url: "rediss://:pw@cache:6380/0"\nmemory:\n  embedder:\n    baseUrl: "http://127.0.0.1:11434/v1"\n');
    const { config } = await loadConfig({ cwd, env: {} });
    assert.equal(config.redis.url, 'rediss://:pw@cache:6380/0');
  });
});
