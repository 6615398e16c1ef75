import type { Context, MiddlewareFn } from 'grammy';
import type { Pairing, PairingStore } from './pairings.js';

/**
 * Who the team talks to on Telegram. A bot is reachable by anyone who finds its username, so
 * nothing reaches the orchestrator unless the chat is allowed: listed in
 * `channels.telegram.allowedChatIds`, approved by pairing, or written in by a user listed in
 * `allowedUserIds` or in `humans:` with a `telegram` id. Anyone else gets a pairing code and
 * no agent run (no model is called, nothing enters the ingress).
 */
export interface TelegramAccessOptions {
  allowedChatIds: ReadonlyArray<number | string>;
  /** `allowedUserIds` and the `telegram` ids of `humans:`. */
  allowedUserIds: ReadonlyArray<number | string>;
  pairings: PairingStore;
}

export class TelegramAccess {
  private readonly chats: Set<string>;
  private readonly users: Set<string>;

  constructor(private readonly opts: TelegramAccessOptions) {
    this.chats = new Set(opts.allowedChatIds.map(String));
    this.users = new Set(opts.allowedUserIds.map(String));
  }

  /** Allowed by configuration alone (no database). */
  allowlisted(chatId: number | string, userId?: number | string): boolean {
    return this.chats.has(String(chatId)) || (userId !== undefined && this.users.has(String(userId)));
  }

  async allows(chatId: number | string, userId?: number | string): Promise<boolean> {
    return this.allowlisted(chatId, userId) || (await this.opts.pairings.isApproved(chatId));
  }
}

/** What a chat waiting for approval is told. */
export function pairingNotice(pairing: Pairing): string {
  const minutes = Math.max(1, Math.round((Date.parse(pairing.expiresAt) - Date.now()) / 60_000));
  return [
    `This chat is not paired with Pantheon yet. Pairing code: \`${pairing.code}\``,
    `Ask whoever runs Pantheon to approve it with \`pantheon pairing approve ${pairing.code}\` (the code expires in ${minutes} minutes).`,
  ].join('\n');
}

/**
 * The gate as grammY middleware: allowed updates go on to the handlers; a message from anyone
 * else goes to `onStranger` (which hands out a pairing code), a button click is answered with a
 * short refusal. Bots' messages are dropped either way.
 */
export function accessGate(access: TelegramAccess, onStranger: (ctx: Context) => Promise<void>): MiddlewareFn<Context> {
  return async (ctx, next) => {
    const chat = ctx.chat;
    if (!chat) return;
    if (await access.allows(chat.id, ctx.from?.id)) return next();
    if (ctx.callbackQuery) {
      await ctx.answerCallbackQuery({ text: 'This chat is not paired with Pantheon yet.' }).catch(() => {});
      return;
    }
    if (ctx.message && ctx.from && !ctx.from.is_bot) await onStranger(ctx);
  };
}
