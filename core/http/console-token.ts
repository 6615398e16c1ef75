import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The generated API token's file in the data dir. */
const CONSOLE_TOKEN_FILE = 'console-token';

export function consoleTokenPath(dataDir: string): string {
  return join(dataDir, CONSOLE_TOKEN_FILE);
}

/** The token generated in this data dir, or undefined when none was generated yet. */
export function readConsoleToken(dataDir: string): string | undefined {
  const path = consoleTokenPath(dataDir);
  if (!existsSync(path)) return undefined;
  const token = readFileSync(path, 'utf8').trim();
  if (!token) throw new Error(`${path} is empty: delete it and start Pantheon again to generate a new API token`);
  return token;
}

/**
 * The API token of a server that has no `PANTHEON_CONSOLE_TOKEN` / `console.token`: read
 * from the data dir, or generated there (owner-only, 0600) at first start and reused after.
 * `wx` makes two processes starting at once agree on one token. The data dir must exist.
 */
export function ensureConsoleToken(dataDir: string): string {
  const existing = readConsoleToken(dataDir);
  const path = consoleTokenPath(dataDir);
  if (existing) {
    chmodSync(path, 0o600);
    return existing;
  }
  const token = randomBytes(32).toString('base64url');
  try {
    writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readConsoleToken(dataDir)!;
    throw err;
  }
  return token;
}
