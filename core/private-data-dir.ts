import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import type { Logger } from './log.js';

/**
 * The file-system calls the check makes; tests inject a `chmodSync` that fails as it would
 * on a data dir owned by someone else (the tests run as root, whose chmod never fails).
 */
export interface DataDirFs {
  lstatSync(path: string): { mode: number; uid: number; isDirectory(): boolean; isFile(): boolean };
  readdirSync(path: string, opts: { withFileTypes: true }): Array<{ name: string; isSymbolicLink(): boolean }>;
  chmodSync(path: string, mode: number): void;
  mkdirSync(path: string, opts: { recursive: true; mode: number }): unknown;
  realpathSync(path: string): string;
}

export interface MakePrivateOptions {
  fs?: DataDirFs;
  /** The uid that must own the data dir (default: this process's). */
  uid?: number;
}

export interface MakePrivateResult {
  /** The data dir, symlinks resolved. */
  dir: string;
  /** Directories and regular files looked at. */
  checked: number;
  /** Of those, how many had group or other permission bits and were made private. */
  tightened: number;
  ms: number;
}

/**
 * The data dir cannot be made private by this process: it belongs to another user, or a
 * chmod inside it was refused. Its message is one line that names the path and the fix.
 */
export class DataDirAccessError extends Error {
  override readonly name = 'DataDirAccessError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/**
 * Creates the data dir (0700) if it is missing, then makes everything in it private:
 * directories 0700, regular files 0600. The data dir holds the embedded database (chat
 * text, approvals, memory), so another local user must read nothing in it. PGlite writes
 * its initial database with mode 0666 whatever the umask, which is why this repairs rather
 * than only checks.
 *
 * Symlinks are neither followed nor changed (a link to a file outside stays what it is).
 * Under `workspaces/` only the folder itself and its per-persona folders are made private:
 * they hold repository checkouts of tens of thousands of files, written by git and by
 * sandboxed commands, and the 0700 folders above them already keep other users out.
 */
export function makeDataDirPrivate(dataDir: string, opts: MakePrivateOptions = {}): MakePrivateResult {
  const started = performance.now();
  const fs = opts.fs ?? nodeFs;
  const uid = opts.uid ?? process.getuid?.();
  if (uid === undefined) return { dir: dataDir, checked: 0, tightened: 0, ms: 0 }; // Windows: no POSIX modes

  try {
    fs.mkdirSync(dataDir, { recursive: true, mode: DIR_MODE });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw err;
    throw new DataDirAccessError(dataDir, `cannot create the data dir ${dataDir} (${code}): create it as the user that runs Pantheon, or pass another --data-dir`);
  }
  // A data dir that is itself a symlink (to a volume, say) is the operator's choice: use its target.
  const dir = fs.realpathSync(dataDir);
  const top = fs.lstatSync(dir);
  if (top.uid !== uid) {
    throw new DataDirAccessError(dir, `data dir ${dir} belongs to uid ${top.uid}, not to uid ${uid} that runs Pantheon: run Pantheon as its owner, or \`chown -R ${ownerName(uid)} ${dir}\``);
  }

  let checked = 0;
  let tightened = 0;
  const fix = (path: string, mode: number, isDir: boolean) => {
    checked++;
    // Group and other bits are what matter: a file of mode 0400 is private already. A directory
    // also needs all its owner bits, or the walk (and Pantheon) could not go through it.
    if ((mode & 0o077) === 0 && (!isDir || (mode & DIR_MODE) === DIR_MODE)) return;
    try {
      fs.chmodSync(path, isDir ? DIR_MODE : FILE_MODE);
      tightened++;
    } catch (err) {
      if (!gone(err)) throw accessError(dir, path, err, uid);
    }
  };
  const walk = (path: string, mode: number, depth: number, underWorkspaces: boolean) => {
    fix(path, mode, true);
    if (underWorkspaces && depth >= 2) return; // <dataDir>/workspaces/<persona>: see above
    let entries;
    try {
      entries = fs.readdirSync(path, { withFileTypes: true });
    } catch (err) {
      if (gone(err)) return;
      throw accessError(dir, path, err, uid);
    }
    for (const entry of entries) {
      if (entry.isSymbolicLink()) continue; // never followed, never changed
      const child = join(path, entry.name);
      let stat;
      try {
        stat = fs.lstatSync(child);
      } catch (err) {
        if (gone(err)) continue;
        throw accessError(dir, child, err, uid);
      }
      if (stat.isDirectory()) walk(child, stat.mode, depth + 1, underWorkspaces || (depth === 0 && entry.name === 'workspaces'));
      else if (stat.isFile()) fix(child, stat.mode, false);
    }
  };
  walk(dir, top.mode, 0, false);
  return { dir, checked, tightened, ms: Math.round(performance.now() - started) };
}

/**
 * `makeDataDirPrivate` at start: one warning line when something had to be tightened.
 * Call it before anything opens the data dir.
 */
export function secureDataDir(dataDir: string, logger: Logger, opts: MakePrivateOptions = {}): MakePrivateResult {
  const result = makeDataDirPrivate(dataDir, opts);
  if (result.tightened > 0) {
    logger.warn(
      { dataDir: result.dir, tightened: result.tightened, checked: result.checked, ms: result.ms },
      `data dir ${result.dir}: made ${result.tightened} entries private (were group/world accessible)`,
    );
  } else {
    logger.debug({ dataDir: result.dir, checked: result.checked, ms: result.ms }, 'data dir is private');
  }
  return result;
}

/** Removed while the walk ran (Postgres renames and deletes its own files as it works). */
function gone(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

function accessError(dir: string, path: string, err: unknown, uid: number): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== 'EPERM' && code !== 'EACCES') return err as Error;
  return new DataDirAccessError(
    path,
    `cannot make ${path} private (${code}: it belongs to another user or is not writable): run Pantheon as the owner of the data dir, or \`chown -R ${ownerName(uid)} ${dir}\``,
  );
}

function ownerName(uid: number): string {
  try {
    if (uid === process.getuid?.()) return userInfo().username || String(uid);
  } catch {
    /* no passwd entry */
  }
  return String(uid);
}
