import type { CallbackQuery, Message, Update, User } from 'grammy/types';
import type { Envelope } from '../../core/chat/types.js';
import { parseCallbackData } from './cards.js';
import { encodeTelegramThreadId } from './thread-id.js';

/**
 * Telegram updates as envelopes. Telegram is a conversation with the orchestrator itself:
 * text passes through as written (`/status`, `/approve 42` are answered by the orchestrator),
 * except `/ask <persona> <text>`, which becomes `@<persona> <text>` so the router sends it to
 * that persona, and `@<this bot>`, which is dropped (it addresses the orchestrator, not a persona).
 */
export interface ParseOptions {
  /** The bot's own username (without `@`), from getMe. */
  botUsername?: string;
  now?: () => Date;
}

/** The thread an update's message belongs to: the chat, or its forum topic. */
export function threadIdOf(message: Pick<Message, 'chat' | 'message_thread_id' | 'is_topic_message'>): string {
  // In non-forum groups `message_thread_id` marks a reply chain, not a topic: only real topics get their own thread.
  const topicId = message.is_topic_message && message.message_thread_id ? String(message.message_thread_id) : undefined;
  return encodeTelegramThreadId({ chatId: String(message.chat.id), topicId });
}

function authorOf(user: User): Envelope['author'] {
  const name = user.username ?? ([user.first_name, user.last_name].filter(Boolean).join(' ') || String(user.id));
  return { id: String(user.id), name, ...(user.is_bot ? { isBot: true } : {}) };
}

/** A chat message as an envelope; null for updates without text or author (stickers, channel posts). */
export function envelopeFromMessage(message: Message, opts: ParseOptions = {}): Envelope | null {
  const raw = message.text ?? message.caption;
  if (!raw || !message.from) return null;
  const text = rewriteText(raw, opts.botUsername);
  if (!text) return null;
  return {
    id: `telegram:msg:${message.chat.id}:${message.message_id}`,
    platform: 'telegram',
    threadId: threadIdOf(message),
    author: authorOf(message.from),
    text,
    receivedAt: new Date(message.date * 1000 || (opts.now?.() ?? new Date()).getTime()).toISOString(),
    bindingKey: `telegram:${message.chat.id}`,
  };
}

/**
 * An inline-keyboard click on an approval card as the command it stands for (`approve <id>`),
 * authored by the clicking user: the orchestrator checks whether they may approve.
 */
export function envelopeFromCallback(query: CallbackQuery, opts: ParseOptions = {}): Envelope | null {
  const answer = query.data ? parseCallbackData(query.data) : null;
  const message = query.message;
  if (!answer || !message) return null;
  const topicId = 'is_topic_message' in message && message.is_topic_message ? message.message_thread_id : undefined;
  return {
    id: `telegram:callback:${query.id}`,
    platform: 'telegram',
    threadId: encodeTelegramThreadId({ chatId: String(message.chat.id), topicId: topicId ? String(topicId) : undefined }),
    author: authorOf(query.from),
    text: `${answer.action} ${answer.approvalId}`,
    receivedAt: (opts.now?.() ?? new Date()).toISOString(),
    bindingKey: `telegram:${message.chat.id}`,
  };
}

export function envelopeFromUpdate(update: Update, opts: ParseOptions = {}): Envelope | null {
  if (update.message) return envelopeFromMessage(update.message, opts);
  if (update.callback_query) return envelopeFromCallback(update.callback_query, opts);
  return null;
}

const ASK = /^\/ask(?:@[A-Za-z0-9_]+)?\s+@?([a-z][a-z0-9-]*)\b[\s,:]*([\s\S]*)$/i;

/** `/ask apollo fix it` → `@apollo fix it`; `@this_bot status?` → `status?`; everything else as is. */
export function rewriteText(text: string, botUsername?: string): string {
  let out = text.trim();
  if (botUsername) {
    const self = new RegExp(`(^|\\s)@${botUsername.replace(/[^A-Za-z0-9_]/g, '')}\\b[,:]?`, 'gi');
    out = out
      .replace(self, '$1')
      .replace(/[ \t]{2,}/g, ' ')
      .trim();
  }
  const ask = ASK.exec(out);
  if (ask) out = `@${ask[1]!.toLowerCase()}${ask[2]!.trim() ? ` ${ask[2]!.trim()}` : ''}`;
  return out;
}
