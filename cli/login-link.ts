import { loadConfig } from '../core/config/index.js';
import { ConsoleSessions, loginUrl, UnknownHumanError } from '../web/index.js';
import { findServer, withDatabase, type ReadSourceOptions } from './audit.js';
import { CommandError } from './command-error.js';
import { authorization, unauthorizedMessage } from './server-token.js';

/**
 * `pantheon login-link <human-id>`: prints a one-time sign-in URL for the web console. With a
 * running server it asks it (`POST /api/login-links`, so the link carries the URL the server
 * serves); without one it writes the link into the database itself, with `console.publicUrl`
 * or the configured port.
 */
export async function loginLinkCommand(humanId: string, opts: ReadSourceOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const loaded = await loadConfig({ configPath: opts.config, dataDir: opts.dataDir });
  const { config } = loaded;
  const known = config.humans.map((h) => h.id);
  if (!known.includes(humanId)) {
    throw new CommandError(
      `${humanId} is not in humans: of ${loaded.configFile ?? 'pantheon.yaml'}${known.length ? ` (known: ${known.join(', ')})` : ': add the people who use the console there, e.g. humans: [{ id: jeff, approver: true }]'}`,
    );
  }
  const server = await findServer(opts);
  if (server) {
    const link = await requestLink(server, humanId);
    out.write(`${link.url}\n`);
    process.stderr.write(`(for ${link.human}; works once, until ${link.expiresAt})\n`);
    return;
  }
  const link = await withDatabase(opts, async (pool) => {
    const sessions = new ConsoleSessions(pool, config.humans, { linkMinutes: config.console.loginLinkMinutes, sessionHours: config.console.sessionHours });
    try {
      return await sessions.createLink(humanId, 'operator');
    } catch (err) {
      if (err instanceof UnknownHumanError) throw new CommandError(err.message);
      throw err;
    }
  });
  const base = config.console.publicUrl ?? `http://127.0.0.1:${config.server.port}`;
  out.write(`${loginUrl(base, link.token)}\n`);
  process.stderr.write(`(for ${link.human}; works once, until ${link.expiresAt.toISOString()}; no server is running: start one to use it)\n`);
}

async function requestLink(base: string, human: string): Promise<{ url: string; human: string; expiresAt: string }> {
  let res: Response;
  try {
    res = await fetch(`${base}/api/login-links`, {
      method: 'POST',
      headers: { ...authorization(), 'content-type': 'application/json' },
      body: JSON.stringify({ human }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new CommandError(`cannot reach Pantheon at ${base} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); is \`pantheon start\` running?`);
  }
  const body = (await res.json().catch(() => undefined)) as { url: string; human: string; expiresAt: string; error?: { message?: string } } | undefined;
  if (res.ok && body?.url) return body;
  if (res.status === 401) throw new CommandError(unauthorizedMessage());
  throw new CommandError(body?.error?.message ?? `POST ${base}/api/login-links answered ${res.status}`);
}
