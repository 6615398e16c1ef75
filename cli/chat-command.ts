import { pino } from 'pino';
import { createLogger } from '../core/log.js';
import { runChat } from './chat.js';
import { resolveServerToken, type ServerToken } from './server-token.js';

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * `pantheon chat`: joins a running server, or starts the team inside this process when none answers
 * (logs then go to stderr at warn level, so the terminal shows only the conversation).
 */
export async function chatCommand(opts: { url?: string; config?: string; dataDir?: string; port?: string; conversation: string; user: string; once?: string }): Promise<void> {
  let url = opts.url ?? process.env.PANTHEON_URL;
  let stop: (() => Promise<void>) | undefined;
  let token: ServerToken | undefined;
  if (!url) {
    const candidate = `http://127.0.0.1:${opts.port ?? process.env.PORT ?? 3000}`;
    if (await answers(candidate)) {
      url = candidate;
    } else {
      const { startPantheon } = await import('./app.js');
      const logger = createLogger({ level: process.env.PANTHEON_LOG_LEVEL ?? 'warn', destination: pino.destination({ dest: 2, sync: false }) });
      const app = await startPantheon({ configPath: opts.config, dataDir: opts.dataDir, port: 0, host: '127.0.0.1', logger });
      url = app.url!;
      stop = app.stop;
      token = { value: app.consoleToken, source: 'the server started by this command' };
    }
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
