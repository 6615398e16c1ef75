import { execFile } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Bytes on disk under `paths` together (missing paths count 0). `du` is fast on large checkouts;
 * without it, a walk in JS does the same (slower, and only used where `du` is missing).
 */
export async function diskUse(paths: readonly string[]): Promise<number> {
  if (paths.length === 0) return 0;
  const viaDu = await new Promise<number | undefined>((resolve) => {
    execFile('du', ['-s', '-c', '-B1', '--', ...paths], { timeout: 60_000, maxBuffer: 1 << 20 }, (err, stdout) => {
      // du exits 1 when a path is missing or unreadable, and still prints the total of the rest.
      const total = /^(\d+)\s+total$/m.exec(stdout ?? '');
      if (total) return resolve(Number(total[1]));
      resolve(err ? undefined : 0);
    });
  });
  if (viaDu !== undefined) return viaDu;
  let total = 0;
  for (const p of paths) total += await walk(p);
  return total;
}

async function walk(path: string): Promise<number> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return 0;
  let total = st.blocks * 512;
  if (st.isDirectory()) {
    const entries = await readdir(path).catch(() => [] as string[]);
    for (const e of entries) total += await walk(join(path, e));
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
export function diskWatch(paths: readonly string[], quotaBytes: number | undefined): { check(): Promise<string | undefined> } {
  let next = 0;
  return {
    async check() {
      if (quotaBytes === undefined || performance.now() < next) return undefined;
      const started = performance.now();
      const used = await diskUse(paths);
      next = performance.now() + 3 * (performance.now() - started);
      return used > quotaBytes ? 'disk' : undefined;
    },
  };
}
