import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
// The platforms' config sections (channels:, handles:, humans: fields), as `pantheon` registers them.
import '../../cli/platforms.js';

/** A throw-away project directory with the given files; `cleanup()` removes it. */
export function tempProject(files: Record<string, string> = {}): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'pantheon-config-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const minimalPersona = (id: string, extra = ''): string => `id: ${id}\nname: ${id[0]!.toUpperCase()}${id.slice(1)}\nrole: developer\ndescription: Writes code.\nprompt: I write code.\n${extra}`;
