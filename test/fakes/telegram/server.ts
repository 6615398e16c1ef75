import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseTelegramHtml } from './html.js';

/**
 * A fake Telegram Bot API server, good enough for real grammY over HTTP: `/bot<token>/<method>`
 * for getMe, getUpdates (long polling with offset/timeout), sendMessage (parse_mode HTML checked
 * as strictly as Telegram does, the 4,096 limit, inline keyboards), editMessageText,
 * sendChatAction, answerCallbackQuery, setMyCommands (its rules checked) and setWebhook/deleteWebhook. Tests play the
 * users: `sendText` and `click` make updates, delivered by getUpdates or POSTed to the webhook
 * with the secret-token header. `failNext` answers 429 with `retry_after` on demand.
 */
export interface FakeUser {
  id: number;
  first_name: string;
  username?: string;
  is_bot?: boolean;
}
export interface FakeChat {
  id: number;
  type: 'private' | 'group' | 'supergroup';
  title?: string;
  is_forum?: boolean;
}

/** One message the bot sent, with later edits applied. */
export interface SentMessage {
  message_id: number;
  chat_id: number;
  message_thread_id?: number;
  /** As sent (HTML when parse_mode is HTML). */
  text: string;
  parse_mode?: string;
  /** What the user sees: tags removed, entities decoded. */
  visible: string;
  reply_markup?: { inline_keyboard?: Array<Array<{ text: string; callback_data?: string }>> };
  reply_to_message_id?: number;
  edits: string[];
  at: number;
}

export interface ApiCall {
  method: string;
  payload: Record<string, any>;
  status: number;
  at: number;
}

export interface FakeTelegram {
  /** What grammY wants as `client.apiRoot` (no trailing slash). */
  apiRoot: string;
  token: string;
  botInfo: {
    id: number;
    is_bot: true;
    first_name: string;
    username: string;
    can_join_groups: boolean;
    can_read_all_group_messages: boolean;
    supports_inline_queries: boolean;
    can_connect_to_business: boolean;
    has_main_web_app: boolean;
  };
  readonly sent: SentMessage[];
  readonly calls: ApiCall[];
  /** Updates made so far, and the status each webhook delivery got. */
  readonly updates: Array<Record<string, any>>;
  readonly deliveries: Array<{ update_id: number; status: number }>;
  /** A user writes in a chat (private chat with the user when `chat` is omitted). */
  sendText(opts: { from: FakeUser; text: string; chat?: FakeChat; topicId?: number }): Record<string, any>;
  /** A user clicks an inline button of a message the bot sent. */
  click(opts: { from: FakeUser; message: SentMessage; data: string; chat?: FakeChat }): Record<string, any>;
  /** The next `times` calls of `method` answer 429 Too Many Requests with `retry_after`. */
  failNext(method: string, opts: { retryAfter: number; times?: number }): void;
  /** After `after` more calls of `method`, the next one answers `status` (500: Telegram's "Internal Server Error"). */
  failAfter(method: string, opts: { after: number; status?: number }): void;
  /** The next `times` messages sent with parse_mode HTML are refused: "can't parse entities". */
  refuseHtmlNext(times?: number): void;
  /** Telegram delivers an update again (the same update_id), as to a bot that did not confirm it (a lost webhook answer, a restart). */
  redeliver(update: Record<string, any>): void;
  /** Whether the bot confirmed the update: a later getUpdates asked past it, or a webhook delivery of it got a 2xx. */
  confirmed(updateId: number): boolean;
  /** Deliver updates by POSTing here with this secret instead of getUpdates (also set by setWebhook); no URL: back to getUpdates. */
  useWebhook(url: string | undefined, secret?: string): void;
  waitForSent(predicate: (m: SentMessage) => boolean, timeoutMs?: number): Promise<SentMessage>;
  callsOf(method: string): ApiCall[];
  /**
   * getUpdates requests ended by another one, as Telegram does with two pollers of one bot: the
   * newer request wins, the one waiting answers 409 "terminated by other getUpdates request"
   * (unless its client closes it within 100 ms: a poll just aborted).
   */
  readonly conflicts: Array<{ at: number }>;
  close(): Promise<void>;
}

type Json = Record<string, any>;

export async function startFakeTelegram(opts: { token?: string; username?: string } = {}): Promise<FakeTelegram> {
  const token = opts.token ?? '123456:TEST-fake-telegram-token';
  const botInfo = {
    id: Number(token.split(':')[0]) || 123456,
    is_bot: true as const,
    first_name: 'Pantheon',
    username: opts.username ?? 'pantheon_test_bot',
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
  };
  const sent: SentMessage[] = [];
  const calls: ApiCall[] = [];
  const updates: Json[] = [];
  const deliveries: Array<{ update_id: number; status: number }> = [];
  /** Updates not confirmed by an offset yet (polling mode). */
  let queue: Json[] = [];
  let nextUpdateId = 1000;
  /** The highest offset a getUpdates asked for: every update below it is confirmed. */
  let confirmedBelow = 0;
  let refuseHtml = 0;
  const failAfter = new Map<string, { after: number; status: number }>();
  /** Updates delivered again whatever the offset (as to a bot that restarted before confirming them). */
  const again: Json[] = [];
  const nextMessageId = new Map<number, number>();
  const failures = new Map<string, { retryAfter: number; times: number }>();
  /** Long polls waiting for an update, and tests waiting for a sent message. */
  const polls = new Set<() => void>();
  /** The long poll waiting now: a second getUpdates ends it with 409, as Telegram does. */
  let waiting: { conflict: () => void } | undefined;
  const conflicts: Array<{ at: number }> = [];
  const watchers = new Set<() => void>();
  let webhook: { url: string; secret?: string } | undefined;
  const sockets = new Set<import('node:net').Socket>();

  const messageId = (chatId: number) => {
    const n = (nextMessageId.get(chatId) ?? 0) + 1;
    nextMessageId.set(chatId, n);
    return n;
  };
  const wake = (set: Set<() => void>) => {
    for (const w of [...set]) w();
  };

  function push(update: Json): Json {
    updates.push(update);
    if (webhook) void deliver(update, webhook);
    else {
      queue.push(update);
      wake(polls);
    }
    return update;
  }

  async function deliver(update: Json, hook: { url: string; secret?: string }, attempt = 1): Promise<void> {
    let status = 0;
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(hook.secret ? { 'x-telegram-bot-api-secret-token': hook.secret } : {}) },
        body: JSON.stringify(update),
      });
      status = res.status;
      await res.body?.cancel();
    } catch {
      /* status 0: unreachable */
    }
    deliveries.push({ update_id: update.update_id, status });
    if ((status < 200 || status >= 300) && status !== 401 && attempt < 5) {
      await new Promise((r) => setTimeout(r, 200 * attempt));
      await deliver(update, hook, attempt + 1);
    }
  }

  const ok = (result: unknown) => ({ status: 200, body: { ok: true, result } });
  const fail = (status: number, description: string, parameters?: Json) => ({ status, body: { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) } });

  function checkText(payload: Json): { text: string; visible: string } | { error: ReturnType<typeof fail> } {
    const text = String(payload.text ?? '');
    if (!text.trim()) return { error: fail(400, 'Bad Request: message text is empty') };
    let visible = text;
    if (payload.parse_mode === 'HTML' && refuseHtml > 0) {
      refuseHtml--;
      return { error: fail(400, "Bad Request: can't parse entities: unsupported start tag at byte offset 0") };
    }
    if (payload.parse_mode === 'HTML') {
      const parsed = parseTelegramHtml(text);
      if (!parsed.ok) return { error: fail(400, `Bad Request: can't parse entities: ${parsed.error}`) };
      visible = parsed.text;
    }
    if (visible.length > 4096) return { error: fail(400, 'Bad Request: message is too long') };
    return { text, visible };
  }

  async function method(name: string, payload: Json, req: IncomingMessage): Promise<{ status: number; body: Json }> {
    const injected = failAfter.get(name);
    if (injected && injected.after-- <= 0) {
      failAfter.delete(name);
      return fail(injected.status, injected.status >= 500 ? 'Internal Server Error' : 'Bad Request: injected failure');
    }
    const failure = failures.get(name);
    if (failure && failure.times > 0) {
      failure.times--;
      return fail(429, `Too Many Requests: retry after ${failure.retryAfter}`, { retry_after: failure.retryAfter });
    }
    switch (name) {
      case 'getMe':
        return ok(botInfo);
      case 'getUpdates': {
        if (webhook) return fail(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
        const offset = Number(payload.offset ?? 0);
        confirmedBelow = Math.max(confirmedBelow, offset);
        if (offset) queue = queue.filter((u) => u.update_id >= offset);
        const limit = Number(payload.limit ?? 100);
        const timeout = Number(payload.timeout ?? 0);
        if (waiting) {
          // A poll its client just aborted may close a moment after the next request arrives (a
          // stopped poller confirming its offset): only one still open after a grace is a conflict.
          const other = waiting;
          await new Promise((r) => setTimeout(r, 100));
          if (waiting === other) {
            conflicts.push({ at: Date.now() });
            other.conflict();
          }
        }
        if (!queue.length && !again.length && timeout > 0) {
          let terminated = false;
          await new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              polls.delete(done);
              req.socket.off('close', done);
              if (waiting === me) waiting = undefined;
              resolve();
            };
            const me = {
              conflict: () => {
                terminated = true;
                done();
              },
            };
            waiting = me;
            const timer = setTimeout(done, timeout * 1000);
            polls.add(done);
            // The client went away (an aborted poll, a killed process): the socket closes.
            req.socket.once('close', done);
          });
          if (terminated) return fail(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running');
        }
        return ok([...again.splice(0), ...queue.slice(0, limit)]);
      }
      case 'sendMessage': {
        const chatId = Number(payload.chat_id);
        if (!Number.isFinite(chatId)) return fail(400, 'Bad Request: chat not found');
        const checked = checkText(payload);
        if ('error' in checked) return checked.error;
        const markup = typeof payload.reply_markup === 'string' ? JSON.parse(payload.reply_markup) : payload.reply_markup;
        const message: SentMessage = {
          message_id: messageId(chatId),
          chat_id: chatId,
          text: checked.text,
          visible: checked.visible,
          edits: [],
          at: Date.now(),
          ...(payload.message_thread_id ? { message_thread_id: Number(payload.message_thread_id) } : {}),
          ...(payload.parse_mode ? { parse_mode: String(payload.parse_mode) } : {}),
          ...(markup ? { reply_markup: markup } : {}),
          ...(payload.reply_parameters?.message_id ? { reply_to_message_id: Number(payload.reply_parameters.message_id) } : {}),
        };
        sent.push(message);
        return ok({
          message_id: message.message_id,
          date: Math.floor(message.at / 1000),
          chat: { id: chatId, type: chatId < 0 ? 'supergroup' : 'private' },
          from: botInfo,
          text: message.visible,
          ...(markup ? { reply_markup: markup } : {}),
        });
      }
      case 'editMessageText': {
        const target = sent.find((m) => m.chat_id === Number(payload.chat_id) && m.message_id === Number(payload.message_id));
        if (!target) return fail(400, 'Bad Request: message to edit not found');
        const checked = checkText(payload);
        if ('error' in checked) return checked.error;
        if (checked.text === target.text)
          return fail(400, 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
        target.edits.push(target.text);
        Object.assign(target, { text: checked.text, visible: checked.visible, parse_mode: payload.parse_mode });
        return ok({ message_id: target.message_id, date: Math.floor(Date.now() / 1000), chat: { id: target.chat_id, type: 'private' }, text: target.visible });
      }
      case 'setWebhook':
        webhook = { url: String(payload.url), secret: payload.secret_token ? String(payload.secret_token) : undefined };
        return ok(true);
      case 'deleteWebhook':
        webhook = undefined;
        if (payload.drop_pending_updates) queue = [];
        return ok(true);
      case 'getWebhookInfo':
        return ok({ url: webhook?.url ?? '', has_custom_certificate: false, pending_update_count: queue.length });
      case 'setMyCommands': {
        // Refused as a whole, as Telegram does, when one entry breaks its rules.
        const commands = typeof payload.commands === 'string' ? JSON.parse(payload.commands) : payload.commands;
        if (!Array.isArray(commands) || commands.length > 100) return fail(400, 'Bad Request: commands must be an array of at most 100 BotCommand');
        for (const c of commands) {
          if (!/^[a-z0-9_]{1,32}$/.test(String(c?.command))) return fail(400, 'Bad Request: BOT_COMMAND_INVALID');
          const description = String(c?.description ?? '');
          if (description.length < 1 || description.length > 256) return fail(400, 'Bad Request: BOT_COMMAND_DESCRIPTION_INVALID');
        }
        return ok(true);
      }
      case 'sendChatAction':
      case 'answerCallbackQuery':
        return ok(true);
      default:
        return fail(404, 'Not Found: method not found');
    }
  }

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    const send = (status: number, body: Json) => {
      if (res.destroyed || res.headersSent) return;
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (!m) return send(404, { ok: false, error_code: 404, description: 'Not Found' });
    if (m[1] !== token) return send(401, { ok: false, error_code: 401, description: 'Unauthorized' });
    const payload: Json = Object.fromEntries(url.searchParams);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const type = String(req.headers['content-type'] ?? '');
    try {
      if (raw && type.includes('json')) Object.assign(payload, JSON.parse(raw));
      else if (raw && type.includes('urlencoded')) Object.assign(payload, Object.fromEntries(new URLSearchParams(raw)));
    } catch {
      return send(400, { ok: false, error_code: 400, description: 'Bad Request: invalid JSON' });
    }
    const answer = await method(m[2]!, payload, req);
    calls.push({ method: m[2]!, payload, status: answer.status, at: Date.now() });
    // Tests waiting for a message see it with its call already on record.
    wake(watchers);
    send(answer.status, answer.body);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;

  const userOf = (u: FakeUser) => ({ id: u.id, is_bot: !!u.is_bot, first_name: u.first_name, ...(u.username ? { username: u.username } : {}) });
  const privateChat = (u: FakeUser): Json => ({ id: u.id, type: 'private', first_name: u.first_name, ...(u.username ? { username: u.username } : {}) });

  return {
    apiRoot: `http://127.0.0.1:${port}`,
    token,
    botInfo,
    sent,
    calls,
    updates,
    deliveries,
    sendText({ from, text, chat, topicId }) {
      const c = chat ? { ...chat } : privateChat(from);
      const id = messageId(c.id);
      const commandLength = /^\/\S+/.exec(text)?.[0].length;
      return push({
        update_id: nextUpdateId++,
        message: {
          message_id: id,
          date: Math.floor(Date.now() / 1000),
          chat: c,
          from: userOf(from),
          text,
          ...(topicId ? { message_thread_id: topicId, is_topic_message: true } : {}),
          ...(commandLength ? { entities: [{ type: 'bot_command', offset: 0, length: commandLength }] } : {}),
        },
      });
    },
    click({ from, message, data, chat }) {
      const c = chat ?? (message.chat_id < 0 ? { id: message.chat_id, type: 'supergroup', title: 'group' } : privateChat(from));
      return push({
        update_id: nextUpdateId++,
        callback_query: {
          id: String(Date.now()) + String(nextUpdateId),
          from: userOf(from),
          chat_instance: String(message.chat_id),
          data,
          message: {
            message_id: message.message_id,
            date: Math.floor(message.at / 1000),
            chat: c,
            from: botInfo,
            text: message.visible,
            ...(message.reply_markup ? { reply_markup: message.reply_markup } : {}),
          },
        },
      });
    },
    failNext(name, { retryAfter, times = 1 }) {
      failures.set(name, { retryAfter, times });
    },
    failAfter(name, { after, status = 500 }) {
      failAfter.set(name, { after, status });
    },
    refuseHtmlNext(times = 1) {
      refuseHtml += times;
    },
    redeliver(update) {
      if (webhook) void deliver(update, webhook);
      else {
        again.push(update);
        wake(polls);
      }
    },
    confirmed(updateId) {
      if (updateId < confirmedBelow) return true;
      const last = deliveries.filter((d) => d.update_id === updateId).at(-1);
      return !!last && last.status >= 200 && last.status < 300;
    },
    useWebhook(url, secret) {
      webhook = url ? { url, secret } : undefined;
    },
    waitForSent(predicate, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = sent.find(predicate);
          if (!hit) return false;
          clearTimeout(timer);
          watchers.delete(check as () => void);
          resolve(hit);
          return true;
        };
        const timer = setTimeout(() => {
          watchers.delete(check as () => void);
          reject(new Error(`no matching message sent within ${timeoutMs} ms; sent:\n${sent.map((m) => `[${m.chat_id}] ${m.text}`).join('\n')}`));
        }, timeoutMs);
        if (!check()) watchers.add(check as () => void);
      });
    },
    callsOf: (name) => calls.filter((c) => c.method === name),
    conflicts,
    async close() {
      wake(polls);
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
