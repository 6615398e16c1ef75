import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The directory holding Pantheon's own package.json.
 *
 * Run-time assets that are not TypeScript (the sample team in `personas/team/`, SQL
 * migrations in `core/db/migrations/`) live beside the sources, not in `dist/`. This walks
 * up from this file, so it finds the same root from `core/` under tsx and from
 * `dist/core/` when compiled. It checks the package name, so a stray package.json in
 * between (or the user's own project, when Pantheon is installed as a dependency) is skipped.
 */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && readPackageName(manifest) === 'pantheon') return (cached = dir);
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`could not find Pantheon's package.json above ${fileURLToPath(import.meta.url)}; is the installation complete?`);
    }
    dir = parent;
  }
}

function readPackageName(file: string): string | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown };
    return typeof parsed.name === 'string' ? parsed.name : undefined;
  } catch {
    return undefined;
  }
}

let version: string | undefined;

/** Pantheon's version, from its package.json (what it tells the MCP servers and clients it meets). */
export function pantheonVersion(): string {
  if (version) return version;
  try {
    version = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    version = '0.0.0';
  }
  return version;
}
