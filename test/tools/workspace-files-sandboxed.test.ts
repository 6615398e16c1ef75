/**
 * read_file and write_file do their I/O in the sandbox, so a symlink in the checkout (committed by
 * the repository, or made by a command) reaches nothing of the host's: not a file it would
 * create (a dangling link), not one it would read, not one swapped in mid-call.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileTools } from '../../tools/workspace/file-tools.js';
import { Workspaces } from '../../tools/workspace/workspaces.js';
import type { PantheonTool, ToolCall } from '../../tools/types.js';
import { tempDir } from '../support/pantheon-process.js';
import { sandboxingFor, testSandbox } from '../support/sandbox.js';

const root = await tempDir('pantheon-files-');
const dataDir = join(root.path, 'data');
const { resolved, skip } = await testSandbox(dataDir);
const call: ToolCall = { id: 'c', threadId: 'local:t', platform: 'local', persona: 'apollo', runId: 'r' };

after(() => root.remove());

describe('file tools in the sandbox', { skip }, () => {
  let tools: Map<string, PantheonTool>;
  let dir: string;
  const outside = join(root.path, 'outside');
  before(async () => {
    const ws = new Workspaces(dataDir, 'apollo', sandboxingFor(resolved)('apollo'));
    dir = ws.dir('acme-api-1');
    await mkdir(join(dir, '.git'), { recursive: true });
    await ws.saveMeta('acme-api-1', { owner: 'acme', repo: 'api', issue: 1, branch: 'pantheon/apollo/1-x', defaultBranch: 'main', cloneUrl: 'http://127.0.0.1:1/acme/api.git' });
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, 'secret.txt'), 'host secret\n');
    tools = new Map(fileTools(ws).map((t) => [t.name, t]));
  });
  const use = (name: string, args: Record<string, unknown>) => tools.get(name)!.run(args as never, call);

  test('ordinary files: written, read back whole and by line range, overwritten', async () => {
    assert.match(await use('write_file', { workspace: 'acme-api-1', path: 'src/a.ts', content: 'one\ntwo\nthree\n' }), /Created src\/a\.ts \(14 bytes\)/);
    assert.equal(await readFile(join(dir, 'src/a.ts'), 'utf8'), 'one\ntwo\nthree\n');
    const whole = await use('read_file', { workspace: 'acme-api-1', path: 'src/a.ts' });
    assert.match(whole, /src\/a\.ts \(4 lines\)/);
    assert.match(whole, /one\ntwo\nthree\n/);
    assert.match(await use('read_file', { workspace: 'acme-api-1', path: 'src/a.ts', start_line: 2, end_line: 2 }), /lines 2-2 of 4\):\n[^\n]*\ntwo\n/);
    assert.match(await use('write_file', { workspace: 'acme-api-1', path: 'src/a.ts', content: 'x' }), /Overwrote/);
    await writeFile(join(dir, 'bin.dat'), Buffer.from([1, 0, 2, 0]));
    assert.match(await use('read_file', { workspace: 'acme-api-1', path: 'bin.dat' }), /binary file \(4 bytes\)/);
    await assert.rejects(use('read_file', { workspace: 'acme-api-1', path: 'nope.txt' }), /No file nope\.txt/);
    await assert.rejects(use('read_file', { workspace: 'acme-api-1', path: 'src' }), /is a directory/);
  });

  test('a dangling symlink to a host path is refused, and no host file appears', async () => {
    await symlink(join(outside, 'pwned.txt'), join(dir, 'evil'));
    await assert.rejects(use('write_file', { workspace: 'acme-api-1', path: 'evil', content: 'owned' }), /symlink/);
    assert.equal(existsSync(join(outside, 'pwned.txt')), false);
  });

  test('a symlinked directory that is swapped in after the check still leads only into the sandbox', async () => {
    // As if a command swapped x for a link to the host between the check and the write: the
    // write runs in the sandbox, where that host path does not exist.
    await mkdir(join(dir, 'x'));
    const hostDir = join(outside, 'swapped');
    await mkdir(hostDir);
    const tool = tools.get('write_file')!;
    const racing = (async () => {
      for (let i = 0; i < 200; i++) {
        await import('node:fs/promises').then(async (fs) => {
          await fs.rm(join(dir, 'x'), { recursive: true, force: true }).catch(() => {});
          await fs.symlink(hostDir, join(dir, 'x')).catch(() => {});
          await fs.rm(join(dir, 'x'), { recursive: true, force: true }).catch(() => {});
          await fs.mkdir(join(dir, 'x')).catch(() => {});
        });
      }
    })();
    for (let i = 0; i < 20; i++) await tool.run({ workspace: 'acme-api-1', path: 'x/planted.txt', content: 'planted' } as never, call).catch(() => {});
    await racing;
    assert.equal(existsSync(join(hostDir, 'planted.txt')), false);
  });

  test('reading through a symlink to the host is refused; writing into .git through one too', async () => {
    await symlink(outside, join(dir, 'out'));
    await assert.rejects(use('read_file', { workspace: 'acme-api-1', path: 'out/secret.txt' }), /outside the workspace/);
    await symlink('.git', join(dir, 'g'));
    await assert.rejects(use('write_file', { workspace: 'acme-api-1', path: 'g/config', content: '[core]\n' }), /into \.git/);
  });
});
