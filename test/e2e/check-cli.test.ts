import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanEnv, runCli, tempDir } from '../support/pantheon-process.js';

const PERSONA = `id: iris
name: Iris
role: reviewer
description: Reviews pull requests for accessibility.
lens: accessibility
tools: [memory, handoff]
prompt: I read every UI change as a keyboard user would.
`;

describe('pantheon check', () => {
  let dir: { path: string; remove: () => Promise<void> };
  before(async () => {
    dir = await tempDir('pantheon-check-');
    await mkdir(join(dir.path, 'personas'));
    await writeFile(join(dir.path, 'personas', 'iris.yaml'), PERSONA);
    await writeFile(join(dir.path, 'secret-key'), 'sk-from-a-file\n');
    await writeFile(join(dir.path, 'pantheon.yaml'), 'models: { default: "openai:gpt-4.1-mini" }\nhumans:\n  - { id: jeff, local: jeff, approver: true }\n');
  });
  after(async () => {
    await dir?.remove();
  });
  const check = (env: Record<string, string>, ...args: string[]) => runCli(['check', ...args], { env: cleanEnv(env), cwd: dir.path });

  it('exits 0 on a good configuration, saying what it read', async () => {
    const { code, stdout, stderr } = await check({ OPENAI_API_KEY: 'sk-test' });
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^config: .*pantheon\.yaml$/m);
    assert.match(stdout, /^personas: iris from .*personas$/m);
    assert.match(stdout, /^ok: the configuration is valid$/m);
  });

  it('exits 2 on a bad one, naming each file and field', async () => {
    const bad = join(dir.path, 'bad');
    await mkdir(join(bad, 'personas'), { recursive: true });
    await writeFile(join(bad, 'personas', 'iris.yaml'), PERSONA.replace('role: reviewer', 'role: dev'));
    await writeFile(join(bad, 'pantheon.yaml'), 'humans:\n  - { id: jeff, approver: yes }\nchanels: {}\n');
    const { code, stdout, stderr } = await check({ OPENAI_API_KEY: 'sk-test' }, '--config', 'bad/pantheon.yaml');
    assert.equal(code, 2, stdout);
    assert.match(stderr, /^pantheon: configuration error: /);
    assert.match(stderr, /bad\/pantheon\.yaml: humans\[0\]\.approver: expected true or false, got "yes"/);
    assert.match(stderr, /bad\/pantheon\.yaml: chanels: unknown key \(did you mean "channels"\?\)/);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  });

  it('names a persona file and its field', async () => {
    const bad = join(dir.path, 'bad-persona');
    await mkdir(join(bad, 'personas'), { recursive: true });
    await writeFile(join(bad, 'personas', 'iris.yaml'), PERSONA.replace('role: reviewer', 'role: dev'));
    await writeFile(join(bad, 'pantheon.yaml'), 'models: { default: "openai:gpt-4.1-mini" }\n');
    const { code, stderr } = await check({ OPENAI_API_KEY: 'sk-test' }, '--config', 'bad-persona/pantheon.yaml');
    assert.equal(code, 2, stderr);
    assert.match(stderr, /personas\/iris\.yaml: role: expected one of pm\|developer\|reviewer\|ops\|custom, got "dev"/);
  });

  it('a model key from OPENAI_API_KEY_FILE counts; without any key it is exit 2 naming the variable', async () => {
    const withFile = await check({ OPENAI_API_KEY_FILE: join(dir.path, 'secret-key') });
    assert.equal(withFile.code, 0, withFile.stderr);
    const without = await check({});
    assert.equal(without.code, 2, without.stdout);
    assert.match(without.stderr, /OPENAI_API_KEY/);
  });

  it('an unreadable *_FILE is exit 2 naming the variable', async () => {
    const { code, stderr } = await check({ OPENAI_API_KEY: 'sk-test', REDIS_URL_FILE: join(dir.path, 'no-such-file') });
    assert.equal(code, 2, stderr);
    assert.match(stderr, /^pantheon: configuration error: environment: REDIS_URL_FILE: names .*no-such-file, which cannot be read \(ENOENT\)\n$/);
  });

  it('PANTHEON_CONSOLE_TOKEN_FILE is the API token', async () => {
    await writeFile(join(dir.path, 'console-token'), 'token-from-a-mounted-secret\n');
    const { code, stdout, stderr } = await runCli(['token'], { env: cleanEnv({ PANTHEON_CONSOLE_TOKEN_FILE: join(dir.path, 'console-token') }), cwd: dir.path });
    assert.equal(code, 0, stderr);
    assert.equal(stdout, 'token-from-a-mounted-secret\n');
  });
});
