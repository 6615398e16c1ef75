import { closeSync, ftruncateSync, linkSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { constants } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';

/** Lock files this process holds, so a second open from the same process is refused with its own message. */
const heldHere = new Set<string>();

interface LockOwner {
  pid: number;
  hostname?: string;
  startedAt?: string;
}

export interface DataDirLock {
  path: string;
  /** `kernel`: held by the kernel for this process; `pid-file`: the fallback where no kernel lock is available. */
  kind: 'kernel' | 'pid-file';
  release(): void;
}

/** The part of fs-native-extensions used here (its Linux build takes an OFD lock, macOS flock, Windows LockFileEx). */
interface KernelLocks {
  tryLock(fd: number): boolean;
  unlock(fd: number): void;
}

let kernelLocks: KernelLocks | null | undefined;
/** Why no kernel lock is available on this machine, when it is not. */
let kernelLocksMissing: string | undefined;

function loadKernelLocks(): KernelLocks | null {
  if (kernelLocks !== undefined) return kernelLocks;
  try {
    kernelLocks = createRequire(import.meta.url)('fs-native-extensions') as KernelLocks;
  } catch (err) {
    kernelLocks = null;
    kernelLocksMissing = (err as Error).message.split('\n')[0];
  }
  return kernelLocks;
}

/** The system call behind the kernel lock on this platform (fs-native-extensions' choice). */
const KERNEL_LOCK_CALLS: Partial<Record<NodeJS.Platform, string>> = { linux: 'fcntl OFD lock', darwin: 'flock', win32: 'LockFileEx' };

/**
 * Whether the data dir lock is a kernel lock here, and if not, why (for `pantheon doctor` and the
 * start-up log). `call` names the system call of a kernel lock (`fcntl OFD lock` on Linux).
 */
export function dataDirLockKind(): { kind: 'kernel' | 'pid-file'; call?: string; reason?: string } {
  return loadKernelLocks() ? { kind: 'kernel', call: KERNEL_LOCK_CALLS[process.platform] ?? 'flock' } : { kind: 'pid-file', reason: kernelLocksMissing };
}

/**
 * Takes the lock that makes one embedded database directory belong to one process.
 *
 * PGlite runs Postgres in single-user mode inside this process: two processes opening the
 * same files would each believe they own them and corrupt the data. The lock is a kernel
 * lock on the lock file (an open-file-description lock on Linux, flock on macOS), held
 * through a descriptor this process keeps open: the kernel drops it when the process ends,
 * however it ends (kill -9, OOM, a container removed), so a dead owner never blocks a start,
 * whatever hostname or pid it had. The file also records the owner's pid and host, only to
 * name the live owner in the refusal. The file itself stays in place: removing it would let
 * two processes lock two different files of the same name.
 *
 * Why a native addon rather than alternatives: a child `flock(1)` process would need util-linux
 * and async start-up, and dies only when its pipe closes; a Unix socket under the data dir has a
 * race between "connect refused" and unlink+bind; an abstract socket is scoped to a network
 * namespace, so two containers sharing one volume would both get it. fs-native-extensions
 * ships prebuilt N-API binaries (no install script). Where none loads (an unusual platform,
 * a musl libc without a matching build), the lock falls back to the pid + hostname file of
 * earlier versions, and `dataDirLockKind()` says so.
 */
export function acquireDataDirLock(lockPath: string, what: string): DataDirLock {
  if (heldHere.has(lockPath)) {
    throw new Error(`${what} is already open in this process (lock file ${lockPath}); close the other Database first.`);
  }
  const locks = loadKernelLocks();
  return locks ? acquireKernelLock(locks, lockPath, what) : acquirePidFileLock(lockPath, what);
}

/** The data dir's lock is held by another process (`holder`: what its lock file says, if anything). */
export class DataDirInUseError extends Error {
  constructor(
    message: string,
    readonly holder: LockOwner | undefined,
  ) {
    super(message);
    this.name = 'DataDirInUseError';
  }
}

function inUse(what: string, lockPath: string, holder: LockOwner | undefined, advice: string): Error {
  const where = holder?.hostname && holder.hostname !== hostname() ? ` on host ${holder.hostname}` : '';
  const who = holder ? `pid ${holder.pid}${where}, ` : '';
  return new DataDirInUseError(`${what} is in use by another Pantheon process (${who}lock file ${lockPath}). Stop that process, or use another --data-dir.${advice}`, holder);
}

/**
 * Who holds the lock, asked the way a start would: by taking it and letting it go at once.
 * Undefined when nobody does; `{ pid: undefined }` when somebody does without saying who.
 */
export function dataDirLockHolder(lockPath: string): { pid?: number } | undefined {
  try {
    acquireDataDirLock(lockPath, 'the data dir').release();
    return undefined;
  } catch (err) {
    if (err instanceof DataDirInUseError) return { pid: err.holder?.pid };
    throw err;
  }
}

function acquireKernelLock(locks: KernelLocks, lockPath: string, what: string): DataDirLock {
  // O_CLOEXEC is Node's default: commands Pantheon starts never inherit (and so never keep) the lock.
  const fd = openSync(lockPath, constants.O_RDWR | constants.O_CREAT, 0o600);
  let locked = false;
  try {
    locked = locks.tryLock(fd);
    if (!locked) throw inUse(what, lockPath, readOwner(lockPath), '');
    const owner: LockOwner = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
    ftruncateSync(fd, 0);
    writeSync(fd, JSON.stringify(owner) + '\n', 0);
  } catch (err) {
    if (locked)
      try {
        locks.unlock(fd);
      } catch {
        /* closing releases it too */
      }
    closeSync(fd);
    throw err;
  }
  heldHere.add(lockPath);
  let released = false;
  return {
    path: lockPath,
    kind: 'kernel',
    release() {
      if (released) return;
      released = true;
      heldHere.delete(lockPath);
      try {
        ftruncateSync(fd, 0);
      } catch {
        /* the record is only informative */
      }
      try {
        locks.unlock(fd);
      } catch {
        /* closing releases it too */
      }
      closeSync(fd);
    },
  };
}

/** Earlier versions' lock, kept for platforms without a kernel lock: a stale one on another host blocks. */
function acquirePidFileLock(lockPath: string, what: string): DataDirLock {
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
        kind: 'pid-file',
        release() {
          if (released) return;
          released = true;
          heldHere.delete(lockPath);
          try {
            unlinkSync(lockPath);
          } catch {
            /* already gone */
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      try {
        unlinkSync(tmp);
      } catch {
        /* not there */
      }
    }
    const holder = readOwner(lockPath);
    if (holder && isAlive(holder)) {
      throw inUse(what, lockPath, holder, ' If no such process is running, delete the lock file (no kernel lock on this platform: ' + (kernelLocksMissing ?? 'unknown') + ').');
    }
    // Stale: its holder is gone. Remove it and try once more (another process may win the race).
    try {
      unlinkSync(lockPath);
    } catch {
      /* someone else removed it */
    }
  }
  throw new Error(`could not take the lock file ${lockPath} for ${what}: another process keeps taking it.`);
}

function readOwner(lockPath: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(lockPath, 'utf8')) as Partial<LockOwner>;
    return typeof parsed.pid === 'number' ? (parsed as LockOwner) : undefined;
  } catch {
    return undefined; // empty (being written), unreadable (Windows locks are mandatory), or damaged
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
