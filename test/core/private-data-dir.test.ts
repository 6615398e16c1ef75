import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLogger } from '../../core/log.js';
import { createDatabase, migrate } from '../../core/db/index.js';
import { DataDirAccessError, makeDataDirPrivate, secureDataDir, type DataDirFs } from '../../core/private-data-dir.js';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'pantheon-private-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

const modeOf = (path: string) => lstatSync(path).mode & 0o777;

/** Every directory and regular file under `dir` whose mode has group or other bits (symlinks not followed). */
function notPrivate(dir: string): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0) found.push(`${(st.mode & 0o777).toString(8)} ${path}`);
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return found;
}

function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'debug',
    destination: {
      write: (s: string) => {
        lines.push(JSON.parse(s));
      },
    },
  });
  return { logger, lines };
}

/** Runs `fn` with the given umask, so the code under test cannot lean on the caller's. */
async function withUmask<T>(mask: number, fn: () => Promise<T>): Promise<T> {
  const old = process.umask(mask);
  try {
    return await fn();
  } finally {
    process.umask(old);
  }
}

describe('makeDataDirPrivate', () => {
  test('repairs world-writable directories and files, and logs one warning saying how many', () => {
    const dir = join(root, 'open');
    mkdirSync(join(dir, 'pgdata', 'base', '5'), { recursive: true });
    writeFileSync(join(dir, 'pgdata', 'PG_VERSION'), '17\n');
    writeFileSync(join(dir, 'pgdata', 'base', '5', '1259'), 'x');
    writeFileSync(join(dir, 'owner-only'), 'x');
    for (const p of ['', 'pgdata', 'pgdata/base', 'pgdata/base/5']) chmodSync(join(dir, p), 0o777);
    for (const p of ['pgdata/PG_VERSION', 'pgdata/base/5/1259']) chmodSync(join(dir, p), 0o666);
    chmodSync(join(dir, 'owner-only'), 0o400);

    const { logger, lines } = capturingLogger();
    const result = secureDataDir(dir, logger);

    assert.equal(result.tightened, 6);
    assert.deepEqual(notPrivate(dir), []);
    assert.equal(modeOf(join(dir, 'pgdata', 'base', '5')), 0o700);
    assert.equal(modeOf(join(dir, 'pgdata', 'PG_VERSION')), 0o600);
    assert.equal(modeOf(join(dir, 'owner-only')), 0o400, 'an owner-only file is private already');
    const warnings = lines.filter((l) => l.level === 40);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].msg, `data dir ${dir}: made 6 entries private (were group/world accessible)`);

    lines.length = 0;
    assert.equal(secureDataDir(dir, logger).tightened, 0);
    assert.equal(lines.filter((l) => l.level === 40).length, 0, 'a private data dir starts without a warning');
  });

  test('creates a missing data dir 0700', async () => {
    const dir = join(root, 'new', 'data');
    await withUmask(0, async () => makeDataDirPrivate(dir));
    assert.equal(modeOf(dir), 0o700);
  });

  test('does not follow symlinks: a link to a file or folder outside leaves its target as it was', () => {
    const dir = join(root, 'links');
    const outside = join(root, 'outside');
    mkdirSync(dir);
    mkdirSync(join(outside, 'sub'), { recursive: true });
    writeFileSync(join(outside, 'file'), 'x');
    writeFileSync(join(outside, 'sub', 'inner'), 'x');
    chmodSync(join(outside, 'file'), 0o666);
    chmodSync(join(outside, 'sub'), 0o777);
    chmodSync(join(outside, 'sub', 'inner'), 0o666);
    symlinkSync(join(outside, 'file'), join(dir, 'file-link'));
    symlinkSync(join(outside, 'sub'), join(dir, 'dir-link'));

    makeDataDirPrivate(dir);

    assert.equal(modeOf(join(outside, 'file')), 0o666);
    assert.equal(modeOf(join(outside, 'sub')), 0o777);
    assert.equal(modeOf(join(outside, 'sub', 'inner')), 0o666);
    assert.ok(lstatSync(join(dir, 'file-link')).isSymbolicLink());
  });

  test('under workspaces/ makes only the folder and each persona folder private, not the checkouts', () => {
    const dir = join(root, 'ws');
    const checkout = join(dir, 'workspaces', 'apollo', 'acme-api-12');
    mkdirSync(join(checkout, 'src'), { recursive: true });
    writeFileSync(join(checkout, 'src', 'index.js'), 'x');
    for (const p of ['workspaces', 'workspaces/apollo', 'workspaces/apollo/acme-api-12', 'workspaces/apollo/acme-api-12/src']) chmodSync(join(dir, p), 0o755);
    chmodSync(join(checkout, 'src', 'index.js'), 0o644);

    const result = makeDataDirPrivate(dir);

    assert.equal(modeOf(join(dir, 'workspaces')), 0o700);
    assert.equal(modeOf(join(dir, 'workspaces', 'apollo')), 0o700);
    assert.equal(modeOf(checkout), 0o755, 'a checkout is left to git and the sandbox');
    assert.equal(modeOf(join(checkout, 'src', 'index.js')), 0o644);
    assert.equal(result.checked, 3);
  });

  test('a data dir that belongs to another user stops with one line naming the path and the fix', () => {
    const dir = join(root, 'theirs');
    mkdirSync(dir, { mode: 0o700 });
    const owner = statSync(dir).uid;
    assert.throws(
      () => makeDataDirPrivate(dir, { uid: owner + 4242 }),
      (err: unknown) => {
        assert.ok(err instanceof DataDirAccessError);
        assert.equal(err.message, `data dir ${dir} belongs to uid ${owner}, not to uid ${owner + 4242} that runs Pantheon: run Pantheon as its owner, or \`chown -R ${owner + 4242} ${dir}\``);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      },
    );
  });

  test('a chmod that fails (EPERM) stops with one line naming the entry and the fix', () => {
    const dir = join(root, 'eperm');
    mkdirSync(join(dir, 'pgdata'), { recursive: true });
    writeFileSync(join(dir, 'pgdata', 'foreign'), 'x');
    chmodSync(join(dir, 'pgdata', 'foreign'), 0o644);
    // As root chmod never fails, so the refusal a non-owner gets is injected.
    const refusing: DataDirFs = {
      ...fs,
      chmodSync(path: string, mode: number) {
        if (path.endsWith('foreign')) throw Object.assign(new Error(`EPERM: operation not permitted, chmod '${path}'`), { code: 'EPERM' });
        fs.chmodSync(path, mode);
      },
    };
    assert.throws(
      () => makeDataDirPrivate(dir, { fs: refusing }),
      (err: unknown) => {
        assert.ok(err instanceof DataDirAccessError);
        assert.equal(err.path, join(dir, 'pgdata', 'foreign'));
        assert.match(
          err.message,
          new RegExp(
            `^cannot make ${join(dir, 'pgdata', 'foreign')} private \\(EPERM: it belongs to another user or is not writable\\): run Pantheon as the owner of the data dir, or \`chown -R \\S+ ${dir}\`$`,
          ),
        );
        return true;
      },
    );
  });

  test('`pantheon migrate` on a data dir of another user exits 1 with the message, not a stack trace', () => {
    let dir: string;
    if (process.getuid?.() === 0) {
      dir = join(root, 'nobody');
      mkdirSync(dir, { mode: 0o700 });
      chownSync(dir, 65534, 65534);
    } else {
      dir = '/'; // owned by root, not by whoever runs the tests
    }
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        import.meta.resolve('tsx'),
        '--input-type=module',
        '-e',
        `const { main } = await import(${JSON.stringify(join(REPO_ROOT, 'cli', 'main.ts'))}); await main(process.argv.slice(1));`,
        'migrate',
        '--data-dir',
        dir,
      ],
      { cwd: root, env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test' }, encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(run.status, 1, run.stderr);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0], /^pantheon: data dir \S+ belongs to uid \d+, not to uid \d+ that runs Pantheon: run Pantheon as its owner, or `chown -R \S+ \S+`$/);
  });
});

describe('the embedded database in a private data dir', () => {
  let dataDir: string;
  before(() => {
    dataDir = join(root, 'embedded');
  });

  test('a fresh start leaves no directory or file readable by group or others, whatever the umask', async () => {
    const logger = createLogger({ level: 'silent' });
    await withUmask(0, async () => {
      const db = await createDatabase({ dataDir, logger });
      try {
        await migrate(db.pool, { logger });
        assert.deepEqual(notPrivate(dataDir), [], 'while open (the lock file included)');
      } finally {
        await db.close();
      }
    });
    assert.deepEqual(notPrivate(dataDir), []);
    assert.ok(readdirSync(join(dataDir, 'pgdata', 'base')).length > 0, 'the database was really created');
  });

  test('a data dir left world-writable is repaired at start, with one warning', async () => {
    // As the issue found it: every directory 0777, every file 0666.
    const open = (path: string) => {
      const st = lstatSync(path);
      if (st.isDirectory()) {
        chmodSync(path, 0o777);
        for (const name of readdirSync(path)) open(join(path, name));
      } else if (st.isFile()) chmodSync(path, 0o666);
    };
    open(dataDir);
    const { logger, lines } = capturingLogger();
    const db = await createDatabase({ dataDir, logger });
    await db.close();
    const warnings = lines.filter((l) => l.level === 40 && typeof l.msg === 'string' && l.msg.startsWith(`data dir ${dataDir}: made `));
    assert.equal(warnings.length, 1, JSON.stringify(lines.filter((l) => (l.level as number) >= 40)));
    assert.ok((warnings[0].tightened as number) > 500, `tightened ${warnings[0].tightened}`);
    assert.deepEqual(notPrivate(dataDir), []);
  });
});
