import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { diskUse, formatBytes, quotaBytes, workspaceDiskUse } from '../../tools/workspace/disk-use.js';
import { personaRoot, transportRepo, workspaceHome } from '../../tools/workspace/naming.js';
import { tempDir } from '../support/pantheon-process.js';

const KB = 1024;
const MB = 1024 * KB;

describe('workspace disk use', () => {
  let dir: { path: string; remove: () => Promise<void> };
  const name = 'acme-api-12';
  /** Bytes of file content written into the checkout and the HOME (random, so no filesystem shrinks it). */
  const written = 3 * MB + 256 * KB + 3 * 64 * KB;

  before(async () => {
    dir = await tempDir('pantheon-disk-use-');
    const checkout = join(personaRoot(dir.path, 'apollo'), name);
    const home = workspaceHome(dir.path, 'apollo', name);
    await mkdir(join(checkout, 'node_modules', 'left-pad'), { recursive: true });
    await mkdir(join(home, '.npm'), { recursive: true });
    await writeFile(join(checkout, 'big.bin'), randomBytes(2 * MB));
    await writeFile(join(checkout, 'node_modules', 'left-pad', 'index.js'), randomBytes(256 * KB));
    for (let i = 0; i < 3; i++) await writeFile(join(checkout, `f${i}.bin`), randomBytes(64 * KB));
    await writeFile(join(home, '.npm', 'cache.bin'), randomBytes(1 * MB));
    // A link is not followed: what it points at is elsewhere.
    await symlink('/usr', join(checkout, 'usr-link'));
    // Pantheon's own transport repository does not count against the quota.
    await mkdir(transportRepo(dir.path, 'apollo', name), { recursive: true });
    await writeFile(join(transportRepo(dir.path, 'apollo', name), 'pack.bin'), randomBytes(5 * MB));
  });
  after(async () => dir?.remove());

  test('counts the checkout and its HOME, not the transport repository', async () => {
    const bytes = await workspaceDiskUse(dir.path, 'apollo', name);
    // Directories and block rounding add a little on top of the content.
    assert.ok(bytes >= written, `${bytes} >= ${written}`);
    assert.ok(bytes < written + 128 * KB, `${bytes} < ${written + 128 * KB}`);
  });

  test('a workspace that does not exist uses nothing', async () => {
    assert.equal(await workspaceDiskUse(dir.path, 'apollo', 'acme-api-404'), 0);
    assert.equal(await diskUse([]), 0);
  });

  test('without du on the PATH, a walk gives the same figure', async () => {
    const paths = [join(personaRoot(dir.path, 'apollo'), name), workspaceHome(dir.path, 'apollo', name)];
    const withDu = await diskUse(paths);
    const saved = process.env.PATH;
    process.env.PATH = join(dir.path, 'no-such-bin');
    try {
      assert.equal(await diskUse(paths), withDu);
    } finally {
      process.env.PATH = saved;
    }
  });

  test('formats sizes for people', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(512 * KB), '512 KB');
    assert.equal(formatBytes(1.25 * 1024 * MB), '1.3 GB');
    assert.equal(formatBytes(quotaBytes(4096)), '4 GB');
  });
});
