import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../core/config/index.js';
import { minimalPersona, tempProject } from './project.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function project(files: Record<string, string>): string {
  const p = tempProject(files);
  cleanups.push(p.cleanup);
  return p.dir;
}

/** Loads and returns the ConfigError, failing the test if loading succeeds. */
async function configError(files: Record<string, string>, env: NodeJS.ProcessEnv = {}): Promise<ConfigError> {
  const cwd = project(files);
  try {
    await loadConfig({ cwd, env });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('loadConfig should have failed');
}

describe('configuration errors name the file, the field path and the problem', () => {
  it('a bad persona role', async () => {
    const err = await configError({ 'pantheon.yaml': '{}\n', 'personas/apollo.yaml': minimalPersona('apollo').replace('developer', 'wizard') });
    assert.equal(err.message, 'personas/apollo.yaml: role: expected one of pm|developer|reviewer|ops|custom, got "wizard"');
    assert.equal(err.file, 'personas/apollo.yaml');
    assert.equal(err.path, 'role');
    assert.equal(err.problem, 'expected one of pm|developer|reviewer|ops|custom, got "wizard"');
  });

  it('retention: days or keep, with the field', async () => {
    const err = await configError({ 'pantheon.yaml': 'retention:\n  auditDays: forever\n' });
    assert.equal(err.message, 'pantheon.yaml: retention.auditDays: expected a number of days (0 or more) or keep, got "forever"');
    const ok = await loadConfig({ cwd: project({ 'pantheon.yaml': 'retention:\n  auditDays: "30"\n  jobLogDays: keep\n' }), env: {} });
    assert.deepEqual(ok.config.retention, { auditDays: 30, transcriptDays: 90, jobLogDays: 'keep', intervalMinutes: 60 });
  });

  it('an unknown top-level key, with a suggestion', async () => {
    const err = await configError({ 'pantheon.yaml': 'chanels: {}\n' });
    assert.equal(err.file, 'pantheon.yaml');
    assert.equal(err.path, 'chanels');
    assert.match(err.message, /^pantheon\.yaml: chanels: unknown key \(did you mean "channels"\?\); allowed here: server, dataDir, /);
  });

  it('an unknown nested key in a persona', async () => {
    const err = await configError({ 'pantheon.yaml': '{}\n', 'personas/apollo.yaml': `${minimalPersona('apollo')}handles:\n  slak: { botToken: x }\n` });
    assert.equal(err.path, 'handles.slak');
    assert.match(err.problem, /unknown key \(did you mean "slack"\?\); allowed here: mattermost, slack, discord, telegram/);
  });

  it('a YAML syntax error, with its line', async () => {
    const err = await configError({ 'pantheon.yaml': 'server:\n  port: 3000\n   host: x\n' });
    assert.equal(err.file, 'pantheon.yaml');
    assert.equal(err.path, 'line 2, column 9');
    assert.match(err.message, /^pantheon\.yaml: line 2, column 9: YAML syntax error: /);
  });

  it('a YAML syntax error in a persona file', async () => {
    const err = await configError({ 'pantheon.yaml': '{}\n', 'personas/apollo.yaml': 'id: apollo\ndescription: does: things\n' });
    assert.match(err.message, /^personas\/apollo\.yaml: line 2, column \d+: YAML syntax error/);
  });

  it('duplicate persona ids across files', async () => {
    const err = await configError({ 'pantheon.yaml': '{}\n', 'personas/a.yaml': minimalPersona('apollo'), 'personas/b.yaml': minimalPersona('apollo') });
    assert.equal(err.message, 'personas/b.yaml: id: duplicate persona id "apollo" (also used in personas/a.yaml); persona ids must be unique');
  });

  it('a persona id that is not [a-z][a-z0-9-]*', async () => {
    const err = await configError({ 'pantheon.yaml': '{}\n', 'personas/a.yaml': minimalPersona('Apollo_1') });
    assert.equal(err.path, 'id');
    assert.match(err.problem, /expected lowercase letters, digits and "-", starting with a letter .*got "Apollo_1"/);
  });

  it('a binding to an unknown persona, listing the team', async () => {
    const err = await configError({ 'pantheon.yaml': 'bindings:\n  - { channel: "slack:C123", persona: apollo }\n  - { channel: "slack:C456", persona: zeus }\n' });
    assert.equal(err.message, 'pantheon.yaml: bindings[1].persona: no persona named "zeus"; the team is: apollo, artemis, athena, hephaestus, hermes, perseus');
  });

  it('a binding to an unknown platform', async () => {
    const err = await configError({ 'pantheon.yaml': 'bindings:\n  - { channel: "matermost:town", persona: athena }\n' });
    assert.equal(err.path, 'bindings[0].channel');
  });

  it('a human whose id is a persona id, and a bad telegram id', async () => {
    const err = await configError({ 'pantheon.yaml': 'humans:\n  - { id: jeff, telegram: "@jeff" }\n' });
    assert.equal(err.message, 'pantheon.yaml: humans[0].telegram: expected a number, got "@jeff"');
    const clash = await configError({ 'pantheon.yaml': 'humans:\n  - { id: athena }\n' });
    assert.equal(clash.path, 'humans[0].id');
    assert.match(clash.problem, /is a persona id/);
  });

  it('reports several problems on separate lines', async () => {
    const err = await configError({ 'pantheon.yaml': 'server: { port: huge }\nmodels: { default: claude }\n' });
    assert.equal(err.message.split('\n').length, 2);
    assert.match(err.message, /^pantheon\.yaml: server\.port: expected a number, got "huge"$/m);
    assert.match(err.message, /^pantheon\.yaml: models\.default: expected "provider:model", e\.g\. "anthropic:claude-sonnet-4-5", got "claude"$/m);
  });

  it('never prints the value of a secret field', async () => {
    const err = await configError({ 'pantheon.yaml': '{}\n', 'personas/a.yaml': `${minimalPersona('apollo')}handles:\n  mattermost: { token: [s3cr3t-value] }\n` });
    assert.equal(err.path, 'handles.mattermost.token');
    assert.doesNotMatch(err.message, /s3cr3t/);
  });

  it('an explicit --config that does not exist', async () => {
    const cwd = project({});
    await assert.rejects(loadConfig({ cwd, env: {}, configPath: join(cwd, 'nope.yaml') }), {
      name: 'ConfigError',
      message: 'nope.yaml: config file not found (given by --config)',
    });
  });

  it('an explicit personasDir that does not exist', async () => {
    const err = await configError({ 'pantheon.yaml': 'personasDir: ./team\n' });
    assert.equal(err.path, 'personasDir');
    assert.match(err.problem, /directory team does not exist/);
  });
});
