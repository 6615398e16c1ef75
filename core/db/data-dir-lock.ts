import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** Lock files this process holds, so a second open from the same process is refused too. */
const heldHere = new Set<string>();

interface LockOwner {
  pid: number;
  hostname?: string;
  startedAt?: string;
}

export interface DataDirLock {
  path: string;
  release(): void;
}

/**
 * Takes the lock file that makes one embedded database directory belong to one process.
 *
 * PGlite runs Postgres in single-user mode inside this process: two processes opening the
 * same files would each believe they own them and corrupt the data. The lock file holds
 * the owner's pid; a lock left behind by a process that is gone (a crash, a container
 * restart that reuses the pid) is taken over, a live one is refused with a message saying
 * which process holds it.
 */
export function acquireDataDirLock(lockPath: string, what: string): DataDirLock {
  if (heldHere.has(lockPath)) {
    throw new Error(`${what} is already open in this process (lock file ${lockPath}); close the other Database first.`);
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    // Written whole to a private file, then hard-linked into place: link() fails if the lock
    // exists, and a reader never sees a half-written lock.
    const tmp = `${lockPath}.${process.pid}.tmp`;
    const owner: LockOwner = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
    writeFileSync(tmp, JSON.stringify(owner) + '\n', { mode: 0o600 });
    try {
      linkSync(tmp, lockPath);
      heldHere.add(lockPath);
      let released = false;
      return {
        path: lockPath,
        release() {
          if (released) return;
          released = true;
          heldHere.delete(lockPath);
          try { unlinkSync(lockPath); } catch { /* already gone */ }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      try { unlinkSync(tmp); } catch { /* not there */ }
    }
    const holder = readOwner(lockPath);
    if (holder && isAlive(holder)) {
      const where = holder.hostname && holder.hostname !== hostname() ? ` on host ${holder.hostname}` : '';
      throw new Error(
        `${what} is in use by another Pantheon process (pid ${holder.pid}${where}, lock file ${lockPath}). ` +
          'Stop that process, or use another --data-dir. If no such process is running, delete the lock file.',
      );
    }
    // Stale: its holder is gone. Remove it and try once more (another process may win the race).
    try { unlinkSync(lockPath); } catch { /* someone else removed it */ }
  }
  throw new Error(`could not take the lock file ${lockPath} for ${what}: another process keeps taking it.`);
}

function readOwner(lockPath: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(lockPath, 'utf8')) as Partial<LockOwner>;
    return typeof parsed.pid === 'number' ? (parsed as LockOwner) : undefined;
  } catch {
    return undefined; // unreadable (not ours, or from a damaged disk): treat as stale
  }
}

function isAlive(owner: LockOwner): boolean {
  // A lock written on another host (a shared volume) cannot be checked from here: assume alive.
  if (owner.hostname && owner.hostname !== hostname()) return true;
  // Our own pid but not held by us: left by an earlier process that had the same pid.
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
