import { existsSync } from 'node:fs';
import { access, mkdir, readdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';

/**
 * A control group for one sandboxed command: memory and process limits that hold for everything
 * it starts together, and a way to count what it ran into. Used where Pantheon may create
 * cgroups (root, or a delegated cgroup v2 subtree); elsewhere the sandbox falls back to rlimits.
 * Both cgroup v2 (one hierarchy) and v1 (a `memory` and a `pids` hierarchy) are supported.
 */
interface CgroupLimits {
  memoryBytes: number;
  processes: number;
}

export interface CommandCgroup {
  /** Moves a process (and its future children) into the group. */
  add(pid: number): Promise<void>;
  /** Kills every process in the group. */
  killAll(): Promise<void>;
  /** Which limit the group's processes ran into. */
  hits(): Promise<{ memory: boolean; processes: boolean }>;
  /** Removes the group once its processes are gone (retries briefly while they exit). */
  remove(): Promise<void>;
}

export interface CgroupHost {
  version: 1 | 2;
  /** v2: the parent group; v1: the `memory` and `pids` parents. */
  roots: string[];
  describe(): string;
  create(name: string, limits: CgroupLimits): Promise<CommandCgroup>;
}

const FS = '/sys/fs/cgroup';

/** This process's own group in a hierarchy, from /proc/self/cgroup. */
async function ownGroup(controller: string | null): Promise<string | undefined> {
  const text = await readFile('/proc/self/cgroup', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [, controllers, path] = line.split(':');
    if (path === undefined) continue;
    if (controller === null ? controllers === '' : controllers!.split(',').includes(controller)) return path;
  }
  return undefined;
}

async function writable(dir: string): Promise<boolean> {
  return access(dir, constants.W_OK).then(
    () => true,
    () => false,
  );
}

/**
 * Finds where this process may create command groups: `pantheon-sandbox` beside (v2: below the
 * parent of) its own group, or in each v1 hierarchy's root. Undefined when it may not.
 */
export async function findCgroupHost(): Promise<CgroupHost | undefined> {
  if (existsSync(join(FS, 'cgroup.controllers'))) {
    // v2: a process may only live in leaf groups, so ours go into a sibling subtree.
    const own = (await ownGroup(null)) ?? '/';
    const candidates = [join(FS, own, '..'), join(FS, own), FS];
    for (const parent of candidates) {
      const controllers = await readFile(join(parent, 'cgroup.controllers'), 'utf8').catch(() => '');
      if (!/\bmemory\b/.test(controllers) || !/\bpids\b/.test(controllers)) continue;
      if (!(await writable(parent))) continue;
      const root = join(parent, 'pantheon-sandbox');
      try {
        await mkdir(root, { recursive: true });
        await writeFile(join(parent, 'cgroup.subtree_control'), '+memory +pids').catch(() => {});
        await writeFile(join(root, 'cgroup.subtree_control'), '+memory +pids');
        await sweep(root);
        return v2Host(root);
      } catch {
        continue;
      }
    }
    return undefined;
  }
  const memory = join(FS, 'memory');
  const pids = join(FS, 'pids');
  if (!existsSync(join(memory, 'cgroup.procs')) || !existsSync(join(pids, 'cgroup.procs'))) return undefined;
  const roots: string[] = [];
  for (const base of [memory, pids]) {
    const root = join(base, 'pantheon-sandbox');
    try {
      await mkdir(root, { recursive: true });
      await sweep(root);
      roots.push(root);
    } catch {
      return undefined;
    }
  }
  return v1Host(roots[0]!, roots[1]!);
}

/**
 * Removes command groups that a Pantheon process which died left behind: empty ones older than a
 * minute (a group is made a moment before its command is put in it, by this or another process).
 */
async function sweep(root: string): Promise<void> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isDirectory() || !e.name.startsWith('run-')) continue;
    const dir = join(root, e.name);
    const age = Date.now() - ((await stat(dir).catch(() => undefined))?.mtimeMs ?? Date.now());
    const procs = (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => 'x')).trim();
    if (age > 60_000 && procs === '') await rmdir(dir).catch(() => {});
  }
}

function v2Host(root: string): CgroupHost {
  return {
    version: 2,
    roots: [root],
    describe: () => `cgroup v2 (${root})`,
    async create(name, limits) {
      const dir = join(root, name);
      await mkdir(dir);
      await writeFile(join(dir, 'memory.max'), String(limits.memoryBytes));
      await writeFile(join(dir, 'memory.swap.max'), '0').catch(() => {});
      await writeFile(join(dir, 'pids.max'), String(limits.processes));
      return {
        add: (pid) => writeFile(join(dir, 'cgroup.procs'), String(pid)),
        async killAll() {
          // cgroup.kill (Linux 5.14) kills the whole group at once; otherwise one by one.
          if (
            await writeFile(join(dir, 'cgroup.kill'), '1').then(
              () => true,
              () => false,
            )
          )
            return;
          await killListed(join(dir, 'cgroup.procs'));
        },
        async hits() {
          const mem = await readFile(join(dir, 'memory.events'), 'utf8').catch(() => '');
          const pids = await readFile(join(dir, 'pids.events'), 'utf8').catch(() => '');
          return { memory: counter(mem, 'oom_kill') > 0 || counter(mem, 'max') > 0, processes: counter(pids, 'max') > 0 };
        },
        remove: () => removeDirs([dir]),
      };
    },
  };
}

function v1Host(memoryRoot: string, pidsRoot: string): CgroupHost {
  return {
    version: 1,
    roots: [memoryRoot, pidsRoot],
    describe: () => `cgroup v1 (${memoryRoot}, ${pidsRoot})`,
    async create(name, limits) {
      const mem = join(memoryRoot, name);
      const pids = join(pidsRoot, name);
      await mkdir(mem);
      await mkdir(pids);
      await writeFile(join(mem, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      // No swapping past the limit where swap accounting exists.
      await writeFile(join(mem, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes)).catch(() => {});
      await writeFile(join(pids, 'pids.max'), String(limits.processes));
      return {
        async add(pid) {
          await writeFile(join(mem, 'cgroup.procs'), String(pid));
          await writeFile(join(pids, 'cgroup.procs'), String(pid));
        },
        killAll: () => killListed(join(pids, 'cgroup.procs')),
        async hits() {
          const failcnt = Number((await readFile(join(mem, 'memory.failcnt'), 'utf8').catch(() => '0')).trim()) || 0;
          const oom = await readFile(join(mem, 'memory.oom_control'), 'utf8').catch(() => '');
          const events = await readFile(join(pids, 'pids.events'), 'utf8').catch(() => '');
          return { memory: failcnt > 0 || counter(oom, 'oom_kill') > 0, processes: counter(events, 'max') > 0 };
        },
        remove: () => removeDirs([mem, pids]),
      };
    },
  };
}

function counter(text: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

async function killListed(procsFile: string): Promise<void> {
  // A fork bomb adds processes while we kill: a few rounds.
  for (let round = 0; round < 20; round++) {
    const pids = (await readFile(procsFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function removeDirs(dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        await rmdir(dir);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        await killListed(join(dir, 'cgroup.procs'));
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}
