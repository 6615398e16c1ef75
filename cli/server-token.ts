import { resolve } from 'node:path';
import { loadConfig } from '../core/config/index.js';
import { consoleTokenPath, readConsoleToken } from '../core/http/index.js';

/** The API token a command sends to a running server, and where it was found (for messages). */
export interface ServerToken {
  value?: string;
  /** `PANTHEON_CONSOLE_TOKEN`, `console.token in pantheon.yaml`, or the generated token's path. */
  source?: string;
}

let current: ServerToken | undefined;

/**
 * Finds the token the way the server chose it: `PANTHEON_CONSOLE_TOKEN`, else `console.token`
 * of the configuration, else the token `pantheon start` generated in the data dir
 * (`--config` and `--data-dir` say which). Remembered for the rest of the command.
 */
export async function resolveServerToken(opts: { config?: string; dataDir?: string }): Promise<ServerToken> {
  current = await findToken(opts);
  return current;
}

async function findToken(opts: { config?: string; dataDir?: string }): Promise<ServerToken> {
  const fromEnv = process.env.PANTHEON_CONSOLE_TOKEN;
  if (fromEnv) return { value: fromEnv, source: 'PANTHEON_CONSOLE_TOKEN' };
  let dataDir = resolve(opts.dataDir ?? '.pantheon');
  try {
    const { config, configFile } = await loadConfig({ configPath: opts.config, dataDir: opts.dataDir });
    if (config.console.token) return { value: config.console.token, source: `console.token in ${configFile ?? 'the configuration'}` };
    dataDir = config.dataDir;
  } catch {
    // A configuration this command cannot load still leaves the data dir to look in.
  }
  const path = consoleTokenPath(dataDir);
  try {
    return { value: readConsoleToken(dataDir), source: path };
  } catch {
    return { source: path };
  }
}

/** The token resolved for this command (`PANTHEON_CONSOLE_TOKEN` when none was resolved). */
function serverToken(): ServerToken {
  const fromEnv = process.env.PANTHEON_CONSOLE_TOKEN;
  return current ?? (fromEnv ? { value: fromEnv, source: 'PANTHEON_CONSOLE_TOKEN' } : {});
}

export function authorization(token: ServerToken = serverToken()): Record<string, string> {
  return token.value ? { authorization: `Bearer ${token.value}` } : {};
}

/** What a 401 means for the person at the terminal, and what to do about it. */
export function unauthorizedMessage(token: ServerToken = serverToken()): string {
  if (token.value) {
    return token.source === 'PANTHEON_CONSOLE_TOKEN' || !token.source
      ? 'the server refused the console token; check PANTHEON_CONSOLE_TOKEN'
      : `the server refused the console token from ${token.source}; pass the --config / --data-dir the server uses, or set PANTHEON_CONSOLE_TOKEN`;
  }
  return `the server needs a console token; set PANTHEON_CONSOLE_TOKEN, or pass the --data-dir the server uses${token.source ? ` (no token in ${token.source})` : ''}`;
}
