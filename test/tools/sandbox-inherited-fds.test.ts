/**
 * Descriptors Pantheon inherited (a supervisor's pipe, a socket handed over by systemd) do not
 * reach the commands it runs: they are closed before the first one starts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/pantheon-process.js';
import { testSandbox } from '../support/sandbox.js';

const root = await tempDir('pantheon-fds-');
const { skip } = await testSandbox(join(root.path, 'probe'));
const repo = join(fileURLToPath(import.meta.url), '..', '..', '..');

test('a descriptor inherited on fd 200 is closed before commands run, and is not in the sandbox', { skip: process.platform !== 'linux' ? 'Linux only' : skip }, async (t) => {
  t.after(() => root.remove());
  const script = `
    import { mkdirSync } from 'node:fs';
    import * as await_fs from 'node:fs';
    import { resolveSandbox } from ${JSON.stringify(join(repo, 'tools/sandbox/resolve.ts'))};
    import { pantheonConfigSchema } from ${JSON.stringify(join(repo, 'core/config/schema.ts'))};
    const link = () => { try { return (await_fs).readlinkSync('/proc/self/fd/200'); } catch { return 'closed'; } };
    const before = link();
    const dataDir = ${JSON.stringify(join(root.path, 'data'))};
    const ws = dataDir + '/ws'; mkdirSync(ws, { recursive: true });
    const r = await resolveSandbox(pantheonConfigSchema.parse({ sandbox: { network: 'none' } }).sandbox, { dataDir });
    const after = link();
    const out = await r.sandbox.run({ argv: ['/bin/sh', '-c', 'ls -l /proc/self/fd /proc/1/fd'], workspace: ws, cwd: ws, home: ws, network: 'none', timeoutMs: 20000 });
    console.log(JSON.stringify({ before, after, sandbox: out.stdout }));
  `;
  // As a supervisor would hand it over: open across exec, on a high number (Node itself marks the low ones close-on-exec).
  const child = spawn('/bin/bash', ['-c', 'exec "$0" "$@" 200</dev/null', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code = await new Promise((r) => child.on('close', r));
  assert.equal(code, 0, out);
  const result = JSON.parse(out.trim().split('\n').pop()!) as { before: string; after: string; sandbox: string };
  assert.equal(result.before, '/dev/null', 'the child inherited fd 200');
  assert.notEqual(result.after, result.before, 'resolving the sandbox closed it (fd 200 is now something else, or nothing)');
  assert.doesNotMatch(result.sandbox, / 200 -> /, `the inherited fd is not in the sandbox:\n${result.sandbox}`);
});
