import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applySecretFiles } from '../../core/config/index.js';
import { ConfigError } from '../../core/config/errors.js';

/** Every variable a deployment passes a secret in (docs/configuration.md, docs/deploy.md, the sample team). */
const SECRET_VARIABLES = [
  'DATABASE_URL',
  'REDIS_URL',
  'PANTHEON_CONSOLE_TOKEN',
  'ANTHROPIC_API_KEY',
  'OPENAI_API_KEY',
  'GITHUB_WEBHOOK_SECRET',
  'SLACK_SIGNING_SECRET',
  'TELEGRAM_BOT_TOKEN',
  'TELEGRAM_WEBHOOK_SECRET',
  'APOLLO_GITHUB_TOKEN',
  'APOLLO_MATTERMOST_TOKEN',
  'APOLLO_SLACK_BOT_TOKEN',
  'APOLLO_SLACK_APP_TOKEN',
  'APOLLO_DISCORD_TOKEN',
  'DEPLOY_PASSWORD',
  'DOCS_TOKEN',
];

describe('FOO_FILE sets FOO for every secret', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pantheon-secret-files-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('each secret-bearing variable comes from its file, less one trailing newline', () => {
    const env: NodeJS.ProcessEnv = {};
    for (const name of SECRET_VARIABLES) env[`${name}_FILE`] = file(name, `value of ${name}\n`);
    const set = applySecretFiles(env);
    assert.deepEqual(set.sort(), [...SECRET_VARIABLES].sort());
    for (const name of SECRET_VARIABLES) assert.equal(env[name], `value of ${name}`, name);
  });

  it('a variable that is set wins over its file', () => {
    const env: NodeJS.ProcessEnv = { OPENAI_API_KEY: 'from-env', OPENAI_API_KEY_FILE: file('k', 'from-file') };
    assert.deepEqual(applySecretFiles(env), []);
    assert.equal(env.OPENAI_API_KEY, 'from-env');
  });

  it('path variables that are not secrets are left alone', () => {
    const env: NodeJS.ProcessEnv = { SSL_CERT_FILE: '/etc/ssl/certs/ca.pem', COMPOSE_FILE: 'a.yml:b.yml' };
    assert.deepEqual(applySecretFiles(env), []);
    assert.equal(env.SSL_CERT, undefined);
  });

  it('an unreadable file is a configuration error naming the variable, not its content', () => {
    const env: NodeJS.ProcessEnv = { REDIS_URL_FILE: join(dir, 'missing') };
    assert.throws(
      () => applySecretFiles(env),
      (err: unknown) => err instanceof ConfigError && /^environment: REDIS_URL_FILE: names .*missing, which cannot be read \(ENOENT\)$/.test(err.message),
    );
  });
});
