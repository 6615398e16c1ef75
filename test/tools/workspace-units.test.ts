import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { branchName, CappedOutput, confine, isWorkBranchOf, parseWorkspaceArg, runProcess, sandboxEnv, slugify, workspaceName } from '../../tools/workspace/index.js';
import { tempDir } from '../support/pantheon-process.js';

let dir: { path: string; remove: () => Promise<void> };
before(async () => {
  dir = await tempDir('pantheon-ws-unit-');
  await mkdir(join(dir.path, 'ws', 'src'), { recursive: true });
  await mkdir(join(dir.path, 'outside'));
  await writeFile(join(dir.path, 'outside', 'secret.txt'), 'secret');
  await symlink(join(dir.path, 'outside'), join(dir.path, 'ws', 'escape'));
});
after(() => dir?.remove());

test('branch names: pantheon/<persona>/<issue>-<slug>, a valid git ref from any title', () => {
  assert.equal(branchName('apollo', 12, 'Fix the login bug!'), 'pantheon/apollo/12-fix-the-login-bug');
  assert.equal(branchName('apollo', 3, 'Ümlaut café — naïve `rm -rf /` ../../x'), 'pantheon/apollo/3-umlaut-cafe-naive-rm-rf-x');
  assert.equal(branchName('apollo', 4, '!!!'), 'pantheon/apollo/4-work');
  const long = slugify('Add rate limiting to every public endpoint of the API gateway service');
  assert.ok(long.length <= 40 && !long.endsWith('-'), long);
  assert.ok(isWorkBranchOf('apollo', 'pantheon/apollo/12-x'));
  assert.ok(!isWorkBranchOf('apollo', 'pantheon/hermes/12-x'));
  assert.ok(!isWorkBranchOf('apollo', 'main'));
});

test('workspace names: one per work item; a tool argument may name it either way', () => {
  assert.equal(workspaceName('acme', 'api', 12), 'acme-api-12');
  assert.equal(parseWorkspaceArg('acme/api#12'), 'acme-api-12');
  assert.equal(parseWorkspaceArg('acme-api-12'), 'acme-api-12');
  assert.throws(() => parseWorkspaceArg('../other'), /not a workspace/);
  assert.throws(() => parseWorkspaceArg('/etc'), /not a workspace/);
});

test('paths stay inside the workspace: no .., no absolute paths elsewhere, no symlink escapes, no .git writes', async () => {
  const root = join(dir.path, 'ws');
  assert.equal(await confine(root, 'src/new/file.ts'), join(root, 'src/new/file.ts'));
  assert.equal(await confine(root, './src/../README.md'), join(root, 'README.md'));
  await assert.rejects(confine(root, '../outside/secret.txt'), /outside the workspace/);
  await assert.rejects(confine(root, 'src/../../outside'), /outside the workspace/);
  await assert.rejects(confine(root, '/etc/passwd'), /outside the workspace/);
  await assert.rejects(confine(root, 'escape/secret.txt'), /symlink/);
  await assert.rejects(confine(root, 'escape/new.txt', { write: true }), /symlink/);
  await assert.rejects(confine(root, '.git/hooks/pre-push', { write: true }), /\.git/);
  assert.equal(await confine(root, '.git/HEAD'), join(root, '.git/HEAD'), 'reading git internals is fine');
});

test("the sandbox environment has PATH, HOME, LANG and CI only: no tokens or keys from Pantheon's", async () => {
  const env = sandboxEnv('/sandbox/home', {
    PATH: '/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    HOME: '/root',
    GITHUB_TOKEN: 'ghp_secretsecretsecretsecret',
    APOLLO_GITHUB_TOKEN: 'x',
    ANTHROPIC_API_KEY: 'sk-ant-x',
    GIT_ASKPASS: '/bin/askpass',
    HTTPS_PROXY: 'http://proxy',
  });
  assert.deepEqual(env, { PATH: '/usr/bin:/bin', HOME: '/sandbox/home', LANG: 'en_US.UTF-8', CI: '1' });
  const r = await runProcess('/bin/sh', ['-c', 'env'], { cwd: dir.path, env, timeoutMs: 10_000 });
  const names = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('=')[0])
    .filter((n) => !['PWD', 'SHLVL', '_'].includes(n!));
  assert.deepEqual(names.sort(), ['CI', 'HOME', 'LANG', 'PATH']);
});

test('output is capped head and tail, with the middle counted', () => {
  const out = new CappedOutput(10, 10);
  out.push('HEAD-12345');
  out.push('x'.repeat(1000));
  out.push('12345-TAIL');
  assert.equal(out.toString(), 'HEAD-12345\n[… 1000 characters omitted …]\n12345-TAIL');
  const small = new CappedOutput(10, 10);
  small.push('short');
  assert.equal(small.toString(), 'short');
});

test('a command past its timeout is stopped with everything it started', async () => {
  const started = Date.now();
  const r = await runProcess('/bin/sh', ['-c', 'sleep 30 & sleep 30; echo never'], { cwd: dir.path, env: sandboxEnv(dir.path), timeoutMs: 500 });
  assert.equal(r.timedOut, true);
  assert.ok(Date.now() - started < 5000);
  assert.doesNotMatch(r.output, /never/);
});
