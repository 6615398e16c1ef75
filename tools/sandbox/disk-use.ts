import { execFile } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Bytes on disk under the given paths together (missing ones count 0): allocated blocks, which is
 * what fills a disk (a sparse file costs what it holds, not what it claims). `du` does the
 * walking, much faster than Node on a checkout with node_modules: `du -s -B1` (GNU), else
 * `du -sk` (macOS, BSD, BusyBox); without a usable `du`, a walk here.
 */
export async function diskUse(paths: readonly string[]): Promise<number> {
  const present: string[] = [];
  for (const p of paths)
    if (
      await lstat(p).then(
        () => true,
        () => false,
      )
    )
      present.push(p);
  if (present.length === 0) return 0;
  for (const flavour of duFlavours()) {
    const bytes = await runDu(flavour, present);
    if (bytes !== undefined) return bytes;
  }
  let total = 0;
  for (const p of present) total += await walk(p);
  return total;
}

type DuFlavour = { args: string[]; unit: number };
const DU_FLAVOURS: DuFlavour[] = [
  { args: ['-s', '-B1'], unit: 1 },
  { args: ['-s', '-k'], unit: 1024 },
];
/** The `du` flags that worked last, tried first next time. */
let workingDu: DuFlavour | undefined;

function duFlavours(): DuFlavour[] {
  return workingDu ? [workingDu, ...DU_FLAVOURS.filter((f) => f !== workingDu)] : DU_FLAVOURS;
}

/**
 * One `du` run: the sum of its per-path totals, or undefined when `du` is missing, refuses the
 * flags or did not report every path. A file it could not read (a non-zero exit) still leaves
 * the totals of the rest, which is the best figure there is.
 */
function runDu(flavour: DuFlavour, paths: string[]): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('du', [...flavour.args, '--', ...paths], { timeout: 120_000, maxBuffer: 1024 * 1024, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } }, (err, stdout) => {
      const lines = String(stdout ?? '')
        .split('\n')
        .filter((l) => l.trim());
      const sizes = lines.map((l) => Number(/^(\d+)\s/.exec(l)?.[1]));
      if ((err && (err as NodeJS.ErrnoException).code === 'ENOENT') || sizes.length !== paths.length || sizes.some((n) => !Number.isFinite(n))) {
        return resolve(undefined);
      }
      workingDu = flavour;
      resolve(sizes.reduce((a, b) => a + b, 0) * flavour.unit);
    });
  });
}

/** Blocks allocated to everything under `root`, symbolic links not followed (as `du -s`). */
async function walk(root: string): Promise<number> {
  let total = 0;
  const stack = [root];
  while (stack.length) {
    const path = stack.pop()!;
    const st = await lstat(path).catch(() => undefined);
    if (!st) continue;
    total += st.blocks * 512;
    if (!st.isDirectory()) continue;
    const entries = await readdir(path).catch(() => [] as string[]);
    for (const e of entries) stack.push(join(path, e));
  }
  return total;
}

/** How often a running command's limits are looked at. */
export const WATCH_INTERVAL_MS = 250;

/**
 * Checks `paths` against a disk quota while a command runs. Measuring takes time on a large
 * checkout, so it is measured at most every fourth of the time since the last measurement took
 * ×4 (a 100 ms `du` is repeated every 400 ms). A command can overshoot by what it writes in that
 * time; no single file can, because RLIMIT_FSIZE caps every file at the quota.
 */
export function diskWatch(spec: { workspace: string; home: string; diskQuotaBytes?: number; diskQuotaFiles?: number }): { check(): Promise<string | undefined> } {
  const paths = [spec.workspace, spec.home];
  let next = 0;
  return {
    async check() {
      if (performance.now() < next) return undefined;
      const started = performance.now();
      const bytes = spec.diskQuotaBytes === undefined ? 0 : await diskUse(paths);
      const files = spec.diskQuotaFiles === undefined ? undefined : await fileCount(paths);
      next = performance.now() + 3 * (performance.now() - started);
      if (spec.diskQuotaBytes !== undefined && bytes > spec.diskQuotaBytes) return 'disk';
      if (files !== undefined && files > spec.diskQuotaFiles!) return 'files';
      return undefined;
    },
  };
}

/** Whether a spec asks for the disk to be watched. */
export function watchesDisk(spec: { diskQuotaBytes?: number; diskQuotaFiles?: number }): boolean {
  return spec.diskQuotaBytes !== undefined || spec.diskQuotaFiles !== undefined;
}

/**
 * Files and directories under `paths` together (GNU `du --inodes`), or undefined where `du`
 * cannot count them (then only bytes are limited). Millions of empty files cost little disk but
 * can use up a filesystem's inodes, the database's included.
 */
export async function fileCount(paths: readonly string[]): Promise<number | undefined> {
  const present: string[] = [];
  for (const p of paths)
    if (
      await lstat(p).then(
        () => true,
        () => false,
      )
    )
      present.push(p);
  if (present.length === 0) return 0;
  return new Promise((resolve) => {
    execFile('du', ['-s', '--inodes', '--', ...present], { timeout: 120_000, maxBuffer: 1024 * 1024, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } }, (err, stdout) => {
      const sizes = String(stdout ?? '')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => Number(/^(\d+)\s/.exec(l)?.[1]));
      if ((err && (err as NodeJS.ErrnoException).code === 'ENOENT') || sizes.length !== present.length || sizes.some((n) => !Number.isFinite(n))) return resolve(undefined);
      resolve(sizes.reduce((a, b) => a + b, 0));
    });
  });
}
