import { diskUse } from '../sandbox/disk-use.js';
import { join } from 'node:path';
import { personaRoot, workspaceHome } from './naming.js';

export { diskUse };

/**
 * Bytes one workspace uses on disk: its checkout and its private HOME together, which is what
 * `workspaces.quotaMb` limits. Pantheon's own metadata and transport repository are not counted:
 * the persona's commands cannot write to them.
 */
export async function workspaceDiskUse(dataDir: string, persona: string, name: string): Promise<number> {
  return diskUse([join(personaRoot(dataDir, persona), name), workspaceHome(dataDir, persona, name)]);
}

/** `workspaces.quotaMb` in bytes. */
export function quotaBytes(quotaMb: number): number {
  return quotaMb * 1024 * 1024;
}

/** `0 B`, `512 KB`, `1.2 GB`, `4 GB`: binary units, at most one decimal, none when whole. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 || value >= 100 ? Math.round(value) : Math.round(value * 10) / 10;
  return `${shown} ${units[unit]}`;
}
