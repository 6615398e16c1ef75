import { userInfo } from 'node:os';
import { ConfigError } from '../core/config/index.js';
import { PairingStore, type ApprovedChat, type Pairing } from '../platforms/telegram/pairings.js';
import { authorization, unauthorizedMessage } from './server-token.js';
import { findServer, formatTable, formatTime, withDatabase, type ReadSourceOptions } from './audit.js';

const PAIRING_ACTIONS = ['list', 'approve', 'revoke'] as const;

export interface PairingCommandOptions extends ReadSourceOptions {
  json?: boolean;
}

/**
 * `pantheon pairing list | approve <code> | revoke <chat id>`: who may talk to the team on
 * Telegram beyond the allowlist. A chat nobody allowed gets a pairing code; approving the code
 * lets the team answer there. Goes through a running server's API when one answers (the
 * embedded database belongs to it), otherwise opens the database directly.
 */
export async function pairingCommand(action: string, value: string | undefined, opts: PairingCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  if (!(PAIRING_ACTIONS as readonly string[]).includes(action)) {
    throw new ConfigError('pairing', '', `unknown action "${action}": use list, approve <code> or revoke <chat id>`);
  }
  const server = await findServer(opts);
  const by = `cli:${userInfo().username || 'unknown'}`;

  if (action === 'list') {
    const { pending, approved } = server
      ? ((await call(server, 'GET', '/api/telegram/pairings')) as { pending: Pairing[]; approved: ApprovedChat[] })
      : await withDatabase(opts, async (pool) => {
          const store = new PairingStore(pool);
          return { pending: await store.pending(), approved: await store.approvedChats() };
        });
    if (opts.json) {
      for (const p of pending) out.write(`${JSON.stringify({ kind: 'pending', ...p })}\n`);
      for (const c of approved) out.write(`${JSON.stringify({ kind: 'approved', ...c })}\n`);
      return;
    }
    out.write(
      pending.length
        ? `Waiting for approval:\n${formatTable(
            ['CODE', 'CHAT', 'TYPE', 'FROM', 'ASKED', 'EXPIRES'],
            pending.map((p) => [p.code, chatName(p.chatId, p.chatTitle), p.chatType ?? '', p.userName ?? p.userId ?? '', formatTime(p.requestedAt), formatTime(p.expiresAt)]),
          )}`
        : 'No pairing requests waiting.\n',
    );
    out.write(
      approved.length
        ? `Paired chats:\n${formatTable(
            ['CHAT', 'TYPE', 'CODE', 'APPROVED', 'BY'],
            approved.map((c) => [chatName(c.chatId, c.chatTitle), c.chatType ?? '', c.code ?? '', formatTime(c.approvedAt), c.approvedBy ?? '']),
          )}`
        : 'No paired chats.\n',
    );
    return;
  }

  if (!value?.trim()) {
    throw new ConfigError('pairing', '', action === 'approve' ? 'give the pairing code the chat was sent: pantheon pairing approve <code>' : 'give the chat id: pantheon pairing revoke <chat id>');
  }

  if (action === 'approve') {
    let pairing: Pairing;
    if (server) {
      pairing = ((await call(server, 'POST', `/api/telegram/pairings/${encodeURIComponent(value.trim())}/approve`, { by })) as { pairing: Pairing }).pairing;
    } else {
      const result = await withDatabase(opts, (pool) => new PairingStore(pool).approve(value, by));
      if (!result.ok) {
        throw new Error(
          result.reason === 'unknown'
            ? `no pairing request with code ${value.trim()}; \`pantheon pairing list\` shows the pending ones`
            : result.reason === 'expired'
              ? `code ${result.pairing!.code} has expired; a new message from the chat gets a new one`
              : `code ${result.pairing!.code} was already approved by ${result.pairing!.approvedBy ?? 'someone'}`,
        );
      }
      pairing = result.pairing;
    }
    out.write(
      opts.json
        ? `${JSON.stringify(pairing)}\n`
        : `Approved ${pairing.code}: Telegram chat ${chatName(pairing.chatId, pairing.chatTitle)}${pairing.userName ? ` (${pairing.userName})` : ''}. The team answers there now.\n`,
    );
    return;
  }

  const chatId = value.trim();
  if (!/^-?\d+$/.test(chatId)) throw new ConfigError('pairing', '', `"${chatId}" is not a Telegram chat id (a number; \`pantheon pairing list\` shows them)`);
  if (server) await call(server, 'DELETE', `/api/telegram/chats/${chatId}`);
  else if (!(await withDatabase(opts, (pool) => new PairingStore(pool).revoke(chatId)))) throw new Error(`chat ${chatId} is not paired`);
  out.write(opts.json ? `${JSON.stringify({ revoked: chatId })}\n` : `Revoked chat ${chatId}: its next message gets a new pairing code.\n`);
}

function chatName(chatId: string, title: string | null): string {
  return title ? `${chatId} "${title}"` : chatId;
}

/** Calls the pairing API with the server's API token; the server's error message is passed on. */
async function call(base: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> = authorization();
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new Error(
      `cannot reach Pantheon at ${base} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); is \`pantheon start\` running? Without --url and PANTHEON_URL the database is used directly.`,
    );
  }
  const answer = (await res.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
  if (res.ok && answer) return answer;
  if (res.status === 401) throw new Error(unauthorizedMessage());
  if (res.status === 404 && !answer?.error?.message?.includes('pairing') && !answer?.error?.message?.includes('paired')) {
    throw new Error(`the server at ${base} has no Telegram pairing API: is channels.telegram.token set in its pantheon.yaml?`);
  }
  throw new Error(answer?.error?.message ?? `${method} ${base}${path} answered ${res.status}`);
}
