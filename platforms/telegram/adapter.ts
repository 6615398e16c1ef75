import { GrammyError, type Api } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { PlatformAdapter, OutboundMessage, PostResult } from '../../core/chat/types.js';
import type { Logger } from '../../core/log.js';
import { renderApprovalCard } from './cards.js';
import { plainParts, telegramParts } from './format.js';
import { decodeTelegramThreadId, encodeTelegramThreadId, type TelegramThread } from './thread-id.js';

/**
 * The team's voice on Telegram. There is one bot (the orchestrator's), so every persona's
 * message is labelled with who speaks (`<b>Apollo</b>: …`); system messages go out as they are.
 * Approval cards get Approve/Deny buttons. Flood limits (429) are waited out by the API
 * transformer in flood-wait.ts; a message Telegram cannot parse as HTML is sent as plain text.
 */
export interface TelegramAdapterOptions {
  api: Api;
  /** Display name of a persona id (`apollo` → `Apollo`). */
  personaName: (id: string) => string;
  logger: Logger;
}

export class TelegramAdapter implements PlatformAdapter {
  readonly name = 'telegram';
  /**
   * Parts of a long message already sent, by idempotency key: a retried post (one part failed)
   * sends only the rest. In memory: the outbox's own record covers restarts.
   */
  private readonly sentParts = new Map<string, number[]>();

  constructor(private readonly opts: TelegramAdapterOptions) {}

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async post(message: OutboundMessage): Promise<PostResult> {
    const thread = decodeTelegramThreadId(message.threadId);
    const label = message.persona ? this.opts.personaName(message.persona) : undefined;
    let html: string[];
    let plain: string[];
    let keyboard: InlineKeyboardMarkup | undefined;
    if (message.card) {
      const card = renderApprovalCard(message.card);
      html = [card.html];
      plain = plainParts(message.card.fallbackText);
      keyboard = card.replyMarkup;
    } else {
      html = telegramParts(message.text, label);
      plain = plainParts(message.text, label);
    }
    const sent = this.sentParts.get(message.idempotencyKey) ?? [];
    const replyTo = replyTarget(message.replyTo, thread);
    for (let i = sent.length; i < html.length; i++) {
      const last = i === html.length - 1;
      const id = await this.send(thread, html[i]!, plain[i] ?? html[i]!, {
        ...(last && keyboard ? { reply_markup: keyboard } : {}),
        ...(i === 0 && replyTo ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } } : {}),
      });
      sent.push(id);
      this.remember(message.idempotencyKey, sent);
    }
    this.sentParts.delete(message.idempotencyKey);
    return { id: String(sent[0]) };
  }

  /** Replaces the text of an earlier message (a job's progress line); only its first part is editable. */
  async edit(threadId: string, messageId: string, message: OutboundMessage): Promise<void> {
    const { chatId } = decodeTelegramThreadId(threadId);
    const label = message.persona ? this.opts.personaName(message.persona) : undefined;
    const [html] = telegramParts(message.text, label);
    try {
      await this.opts.api.editMessageText(chatId, Number(messageId), html!, { parse_mode: 'HTML' });
    } catch (err) {
      if (err instanceof GrammyError && /message is not modified/i.test(err.description)) return;
      if (err instanceof GrammyError && /can't parse entities/i.test(err.description)) {
        await this.opts.api.editMessageText(chatId, Number(messageId), plainParts(message.text, label)[0]!);
        return;
      }
      throw err;
    }
  }

  /** "typing…" in the chat for about five seconds (Telegram's rule); call again to keep it up. */
  async typing(threadId: string): Promise<void> {
    const { chatId, topicId } = decodeTelegramThreadId(threadId);
    await this.opts.api.sendChatAction(chatId, 'typing', topicId ? { message_thread_id: Number(topicId) } : {});
  }

  /** A private chat with a person is the chat whose id is their user id (once they have started the bot). */
  directThreadId(userId: string): string | undefined {
    return /^\d{1,20}$/.test(userId) ? `telegram:${userId}` : undefined;
  }

  encodeThreadId(parts: Record<string, string>): string {
    return encodeTelegramThreadId(parts);
  }

  decodeThreadId(threadId: string): Record<string, string> {
    return { ...decodeTelegramThreadId(threadId) };
  }

  private async send(thread: TelegramThread, html: string, plain: string, extra: Record<string, unknown>): Promise<number> {
    const common = { ...(thread.topicId ? { message_thread_id: Number(thread.topicId) } : {}), link_preview_options: { is_disabled: true }, ...extra };
    try {
      return (await this.opts.api.sendMessage(thread.chatId, html, { parse_mode: 'HTML', ...common })).message_id;
    } catch (err) {
      if (!(err instanceof GrammyError && /can't parse entities/i.test(err.description))) throw err;
      this.opts.logger.warn({ err: err.description }, 'Telegram could not parse the HTML; sending plain text');
      return (await this.opts.api.sendMessage(thread.chatId, plain, common)).message_id;
    }
  }

  private remember(key: string, ids: number[]): void {
    this.sentParts.set(key, ids);
    if (this.sentParts.size > 1000) this.sentParts.delete(this.sentParts.keys().next().value!);
  }
}

/** In groups a reply quotes the message it answers (`telegram:msg:<chat>:<id>`); private chats need no quoting. */
function replyTarget(replyTo: string | undefined, thread: TelegramThread): number | undefined {
  const m = replyTo ? /^telegram:msg:(-?\d+):(\d+)$/.exec(replyTo) : null;
  return m && m[1] === thread.chatId && thread.chatId.startsWith('-') ? Number(m[2]) : undefined;
}
