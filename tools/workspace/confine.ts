import { lstat, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';

/** Thrown for a path that would leave the workspace (or touch its git internals). */
class PathOutsideWorkspaceError extends Error {
  constructor(path: string, why: string) {
    super(`Refused path "${path}": ${why}. Use a path relative to the workspace root, e.g. src/index.ts`);
    this.name = 'PathOutsideWorkspaceError';
  }
}

function inside(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * The absolute path of `path` inside the workspace `root`, refusing anything that escapes it:
 * `..`, absolute paths elsewhere, and symlinks pointing out. `write` also refuses `.git/`,
 * where hooks and config would run code or redirect credentials on a later git command.
 */
export async function confine(root: string, path: string, opts: { write?: boolean } = {}): Promise<string> {
  const raw = path.trim() || '.';
  const target = resolve(root, raw);
  if (!inside(root, target)) throw new PathOutsideWorkspaceError(path, 'it is outside the workspace');
  const rel = relative(root, target);
  if (opts.write && rel.split(sep).some((part) => part === '.git')) throw new PathOutsideWorkspaceError(path, 'files under .git are not editable');
  // A symlink inside the checkout may point anywhere: check where the path really lands.
  const realRoot = await realpath(root);
  const realTarget = await realpathOfExisting(target, path);
  if (!inside(realRoot, realTarget)) throw new PathOutsideWorkspaceError(path, 'it leads outside the workspace through a symlink');
  if (
    opts.write &&
    relative(realRoot, realTarget)
      .split(sep)
      .some((part) => part === '.git')
  )
    throw new PathOutsideWorkspaceError(path, 'it leads into .git through a symlink');
  return target;
}

/** realpath of the longest existing prefix of `p`, with the rest appended. */
async function realpathOfExisting(p: string, shown: string): Promise<string> {
  let current = p;
  const rest: string[] = [];
  for (;;) {
    try {
      return resolve(await realpath(current), ...rest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // A symlink whose target does not exist yet would be followed by a write: refuse it.
      if ((await lstat(current).catch(() => undefined))?.isSymbolicLink()) throw new PathOutsideWorkspaceError(shown, 'it is a symlink to a file that does not exist');
      const parent = dirname(current);
      if (parent === current) return p;
      rest.unshift(basename(current));
      current = parent;
    }
  }
}
