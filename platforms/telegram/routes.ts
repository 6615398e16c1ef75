import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Update } from 'grammy/types';
import { boundedBody } from '../../core/http/body-budget.js';
import { HttpError, sendError } from '../../core/http/errors.js';
import type { OutboxPort } from '../../core/chat/outbox.js';
import type { TelegramBot } from './bot.js';
import type { PairingStore } from './pairings.js';
import { encodeTelegramThreadId } from './thread-id.js';

const TELEGRAM_WEBHOOK_PATH = '/webhooks/telegram';
const SECRET_HEADER = 'x-telegram-bot-api-secret-token';
/** An update is a few KB (a message, a callback); 1 MB leaves room and no more (`server.limits.webhookBodyKb.telegram`). */
const TELEGRAM_BODY_LIMIT = 1024 * 1024;

/**
 * `POST /webhooks/telegram` (webhook mode): Telegram sends the secret it was given with
 * `setWebhook` in `X-Telegram-Bot-Api-Secret-Token`; anything without it is answered 401
 * before its body is read.
 * The update is only turned into an envelope and queued, so the answer is fast.
 */
export function registerTelegramWebhook(http: FastifyInstance, deps: { bot: TelegramBot; secret: string; bodyLimitBytes?: number }): void {
  const limitBytes = deps.bodyLimitBytes ?? TELEGRAM_BODY_LIMIT;
  const expected = digest(deps.secret);
  // The secret is a header: a request without it is refused before its body is read.
  const onRequest = boundedBody({
    limitBytes,
    precheck: (request) => {
      const given = request.headers[SECRET_HEADER];
      return typeof given === 'string' && timingSafeEqual(digest(given), expected) ? null : `missing or wrong ${SECRET_HEADER} header`;
    },
  });
  http.post(TELEGRAM_WEBHOOK_PATH, { bodyLimit: limitBytes, onRequest }, async (request, reply) => {
    const update = request.body as Update | undefined;
    if (!update || typeof update !== 'object' || typeof update.update_id !== 'number') {
      return sendError(request, reply, 400, 'bad_request', 'expected a Telegram update as JSON');
    }
    await deps.bot.handleUpdate(update);
    return reply.send({ ok: true });
  });
}

/**
 * Pairing over the console API, for `pantheon pairing` while a server runs (the embedded
 * database belongs to that process): list requests and approved chats, approve a code,
 * revoke a chat. Under `/api`, so the console token protects them.
 */
export function registerPairingRoutes(http: FastifyInstance, deps: { pairings: PairingStore; outbox: OutboxPort }): void {
  http.get('/api/telegram/pairings', async () => ({
    pending: await deps.pairings.pending(),
    approved: await deps.pairings.approvedChats(),
  }));

  http.post<{ Params: { code: string }; Body: { by?: string } | undefined }>('/api/telegram/pairings/:code/approve', async (request) => {
    const by = typeof request.body?.by === 'string' && request.body.by ? request.body.by.slice(0, 100) : 'console';
    const result = await deps.pairings.approve(request.params.code, by);
    if (!result.ok) {
      if (result.reason === 'unknown') throw new HttpError(404, 'not_found', `no pairing request with code ${request.params.code}; \`pantheon pairing list\` shows the pending ones`);
      throw new HttpError(
        409,
        result.reason,
        result.reason === 'expired'
          ? `code ${result.pairing!.code} has expired; a new message from the chat gets a new one`
          : `code ${result.pairing!.code} was already approved by ${result.pairing!.approvedBy ?? 'someone'}`,
      );
    }
    const { pairing } = result;
    // Tell the chat it can talk to the team now (best effort: the approval stands either way).
    await deps.outbox
      .send({
        idempotencyKey: `telegram:paired:${pairing.code}`,
        platform: 'telegram',
        threadId: encodeTelegramThreadId({ chatId: pairing.chatId }),
        role: 'system',
        text: 'This chat is paired with Pantheon now: the team answers here. Send /help to see what you can ask.',
      })
      .catch((err) => request.log.warn({ err }, 'could not tell the chat it was paired'));
    return { pairing };
  });

  http.delete<{ Params: { chatId: string } }>('/api/telegram/chats/:chatId', async (request) => {
    if (!/^-?\d+$/.test(request.params.chatId)) throw new HttpError(400, 'bad_request', 'expected a numeric Telegram chat id');
    if (!(await deps.pairings.revoke(request.params.chatId))) throw new HttpError(404, 'not_found', `chat ${request.params.chatId} is not paired`);
    return { revoked: request.params.chatId };
  });
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
