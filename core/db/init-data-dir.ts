import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { makeDataDirPrivate } from '../private-data-dir.js';

/**
 * Creates a new PGlite data directory (initdb) in a short-lived child process.
 *
 * initdb runs a second WebAssembly Postgres whose memory the process never gives back:
 * done in-process, a first start idles around 450 MB instead of under 300 MB. In a child,
 * that memory goes away with the child and the parent opens a ready directory.
 */
export async function initDataDirInChild(pgdata: string): Promise<void> {
  if (existsSync(join(pgdata, 'PG_VERSION'))) return;
  const self = fileURLToPath(import.meta.url);
  // The same file runs as the child: init-data-dir.ts under tsx, init-data-dir.js when compiled.
  const script = join(dirname(self), `init-data-dir${extname(self)}`);
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    const child = fork(script, [pgdata], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, PANTHEON_INITDB_CHILD: '1' },
      // Keep loaders such as tsx; drop the test runner's and the debugger's flags.
      execArgv: process.execArgv.filter((a) => !a.startsWith('--test') && !a.startsWith('--inspect')),
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 4000) stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`initialising the database directory ${pgdata} failed (${signal ?? `exit code ${code}`}): ${stderr.trim() || 'no output'}`));
    });
  });
}

async function runAsChild(pgdata: string): Promise<void> {
  process.umask(0o077);
  const db = await PGlite.create({ dataDir: pgdata });
  await db.close();
  // PGlite's initdb writes its files with mode 0666 whatever the umask.
  makeDataDirPrivate(pgdata);
}

if (process.env.PANTHEON_INITDB_CHILD === '1' && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const pgdata = process.argv[2];
  runAsChild(pgdata).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
