import { pino } from 'pino';
import { createLogger } from '../core/log.js';
import { runChat } from './chat.js';
import { resolveServerToken, type ServerToken } from './server-token.js';
import { findServer } from './audit.js';

/**
 * `pantheon chat`: joins a running server (see `findServer`), or starts the team inside this process when none answers
 * (logs then go to stderr at warn level, so the terminal shows only the conversation).
 */
export async function chatCommand(opts: { url?: string; config?: string; dataDir?: string; port?: string; conversation: string; user: string; once?: string }): Promise<void> {
  // A server given by --url / PANTHEON_URL, recorded in the data dir, or answering on the port.
  let url = await findServer({ url: opts.url, config: opts.config, dataDir: opts.dataDir, port: opts.port });
  let stop: (() => Promise<void>) | undefined;
  let token: ServerToken | undefined;
  if (!url) {
    const { startPantheon } = await import('./app.js');
    const logger = createLogger({ level: process.env.PANTHEON_LOG_LEVEL ?? 'warn', destination: pino.destination({ dest: 2, sync: false }) });
    const app = await startPantheon({ configPath: opts.config, dataDir: opts.dataDir, port: 0, host: '127.0.0.1', logger });
    url = app.url!;
    stop = app.stop;
    token = { value: app.consoleToken, source: 'the server started by this command' };
  }
  // A running server's token: PANTHEON_CONSOLE_TOKEN, console.token, or the one in its data dir.
  token ??= await resolveServerToken(opts);
  try {
    await runChat({ url, conversation: opts.conversation, user: opts.user, token: token.value, tokenSource: token.source, once: opts.once });
  } finally {
    await stop?.();
  }
  process.exit(0);
}
