import { existsSync } from 'node:fs';
import { loadConfig } from '../core/config/index.js';
import { ensureConsoleToken } from '../core/http/index.js';

/**
 * `pantheon token`: prints the API token, so `curl -H "authorization: Bearer $(npx pantheon token)"`
 * works. `PANTHEON_CONSOLE_TOKEN` / `console.token` when set, else the token generated in the
 * data dir (generated now if the data dir exists and has none yet; the server reuses it). A data
 * dir that does not exist is not created: that is usually the wrong `--data-dir`.
 */
export async function tokenCommand(opts: { config?: string; dataDir?: string }, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const { config } = await loadConfig({ configPath: opts.config, dataDir: opts.dataDir });
  if (config.console.token) {
    out.write(`${config.console.token}\n`);
    return;
  }
  if (!existsSync(config.dataDir)) {
    throw new Error(`no API token yet: ${config.dataDir} does not exist. \`pantheon start\` generates the token there at first start; pass the --data-dir it uses, or set PANTHEON_CONSOLE_TOKEN.`);
  }
  out.write(`${ensureConsoleToken(config.dataDir)}\n`);
}
