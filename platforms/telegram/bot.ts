import { setTimeout as wait } from 'node:timers/promises';
import { Bot, BotError, GrammyError, type Context } from 'grammy';
import type { Update, UserFromGetMe } from 'grammy/types';
import type { ChatCommandRegistry } from '../../core/chat/commands.js';
import { deliverInbound } from '../../core/chat/inbound.js';
import type { Envelope, InboundRedelivery, IngressSink } from '../../core/chat/types.js';
import type { Logger } from '../../core/log.js';
import type { Metrics } from '../../core/metrics.js';
import { accessGate, type TelegramAccess } from './access.js';
import { floodWait } from './flood-wait.js';
import { telegramMenu } from './menu.js';
import { envelopeFromCallback, envelopeFromMessage } from './parse.js';

/**
 * The orchestrator's one Telegram bot (grammY): the access gate, then messages and button
 * clicks turned into envelopes and handed to the ingress. It never answers by itself except
 * to hand out pairing codes and acknowledge clicks; everything the team says goes out through
 * the outbox and the adapter. Takes updates by long polling, or from `POST /webhooks/telegram`.
 */
export interface TelegramBotOptions {
  token: string;
  /** Bot API server (tests use a fake); no trailing slash. */
  apiRoot?: string;
  /** Skips getMe (tests). */
  botInfo?: UserFromGetMe;
  access: TelegramAccess;
  ingress: IngressSink;
  /** The chat commands the orchestrator answers: Telegram's command menu is built from them when the bot starts. */
  commands: Pick<ChatCommandRegistry, 'list'>;
  /** A message from a chat nobody allowed: hand out a pairing code. */
  onStranger: (ctx: Context) => Promise<void>;
  logger: Logger;
  /** Counts updates the ingress could not store (`pantheon_inbound_failures_total`). */
  metrics?: Pick<Metrics, 'inboundFailures'>;
  /** getUpdates long-poll timeout in seconds (default 30). */
  pollTimeoutSeconds?: number;
}

/** An update the ingress could not store: it must not be confirmed to Telegram, which then delivers it again. */
class NotStored extends Error {
  constructor(
    readonly updateId: number,
    cause: Error,
  ) {
    super(`update ${updateId} could not be stored: ${cause.message}`, { cause });
    this.name = 'NotStored';
  }
}

/** The first wait before polling again from an update that was not stored; doubles up to 30 s. */
const REFETCH_MS = 1000;

export class TelegramBot {
  /**
   * An update is confirmed to Telegram only once stored: in webhook mode by answering 2xx, when
   * polling by asking for the updates after it. Not stored, it is delivered again.
   */
  readonly redelivery: InboundRedelivery = 'platform';
  readonly bot: Bot;
  private polling?: Promise<void>;
  /** Cancels the long poll in flight and the waits between polls; a new one for each `startPolling`. */
  private stopping = new AbortController();
  /** Whether the last getUpdates answered (for `/readyz`). */
  private pollingUp = false;
  /**
   * Polling: the `offset` of the next getUpdates, one past the last update done with (stored,
   * nothing to store, or failed in a way a redelivery would not mend). Asking from it confirms to
   * Telegram every update before it and no other.
   */
  private offset = 0;
  /** Updates polled again in a row because they were not stored (the wait doubles). */
  private refetches = 0;

  constructor(private readonly opts: TelegramBotOptions) {
    const log = opts.logger;
    this.bot = new Bot(opts.token, { botInfo: opts.botInfo, client: { apiRoot: opts.apiRoot?.replace(/\/+$/, '') } });
    this.bot.api.config.use(floodWait({ onWait: (w) => log.warn(w, 'Telegram flood limit: waiting before retrying') }));
    this.bot.use(accessGate(opts.access, opts.onStranger));
    this.bot.on('message', async (ctx) => {
      const envelope = envelopeFromMessage(ctx.message, { botUsername: ctx.me.username });
      if (envelope) await this.accept(envelope, ctx.update.update_id);
    });
    this.bot.on('callback_query:data', async (ctx) => {
      const envelope = envelopeFromCallback(ctx.callbackQuery, { botUsername: ctx.me.username });
      if (!envelope) return void (await ctx.answerCallbackQuery().catch(() => {}));
      await this.accept(envelope, ctx.update.update_id);
      // Telegram shows a spinner on the button until the click is answered: answer at once.
      await ctx.answerCallbackQuery({ text: `Sent: ${envelope.text}` }).catch((err) => log.debug({ err }, 'answerCallbackQuery failed'));
    });
  }

  get api() {
    return this.bot.api;
  }

  /** Long polling in the background; returns once the first poll is under way or has failed. */
  startPolling(): void {
    if (this.polling) return;
    this.stopping = new AbortController();
    this.polling = this.pollLoop();
  }

  /** Whether polling runs and its last getUpdates answered. */
  isPolling(): boolean {
    return !!this.polling && this.pollingUp;
  }

  /** Webhook mode: learn who the bot is and, with a public URL, tell Telegram where to deliver. */
  async startWebhook(opts: { url?: string; secret: string }): Promise<void> {
    // Telegram being unreachable at start must not stop the team: updates init the bot lazily.
    try {
      await this.init();
      if (opts.url) {
        await this.bot.api.setWebhook(opts.url, { secret_token: opts.secret, allowed_updates: ['message', 'callback_query'] });
        this.opts.logger.info({ url: opts.url }, 'Telegram webhook registered');
      }
      await this.setMenu();
    } catch (err) {
      this.opts.logger.error({ err: describeFailure(err) }, 'Telegram webhook setup failed');
    }
  }

  /** One update from the webhook. Throws when the ingress could not take it (Telegram then redelivers). */
  async handleUpdate(update: Update): Promise<void> {
    await this.init();
    await this.bot.handleUpdate(update);
  }

  /** Stops polling (it may start again: another replica's lease ends, this one takes over). */
  async stop(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    const polling = this.polling;
    if (!polling) return;
    await Promise.race([polling, wait(2000, undefined, { ref: false })]);
    this.polling = undefined;
    this.pollingUp = false;
    // Confirms what was stored since the last poll, so a restart is not sent it again (it would only be deduped).
    if (this.offset) await this.bot.api.getUpdates({ offset: this.offset, limit: 1, timeout: 0 }).catch(() => {});
    // The next owner (here or elsewhere) asks Telegram from what it has not confirmed.
    this.offset = 0;
  }

  /** The command menu, from the registry as it is now (every module and the team have registered theirs by start). */
  private async setMenu(): Promise<void> {
    await this.bot.api.setMyCommands(telegramMenu(this.opts.commands.list())).catch((err) => this.opts.logger.debug({ err }, 'setMyCommands failed'));
  }

  private async init(): Promise<void> {
    if (!this.bot.isInited()) await this.bot.init();
  }

  /**
   * Long polling with getUpdates and `bot.handleUpdate`, grammY's public API (not `bot.start`,
   * whose offset is private): the offset moves past an update only once it is done with, so one
   * the ingress could not store is asked for again, after a wait that doubles while it keeps
   * failing.
   */
  private async pollLoop(): Promise<void> {
    const log = this.opts.logger;
    const { signal } = this.stopping;
    // grammY types its signal parameter with the abort-controller polyfill's class; node's own is what it uses at run time.
    const apiSignal = signal as unknown as Parameters<Bot['api']['getUpdates']>[1];
    let started = false;
    while (!signal.aborted) {
      try {
        if (!started) {
          await this.init();
          // Telegram refuses getUpdates while a webhook is set (a previous webhook-mode run).
          await this.bot.api.deleteWebhook(undefined, apiSignal);
          log.info({ bot: this.bot.botInfo.username }, 'Telegram long polling started');
          void this.setMenu();
          started = true;
        }
        const updates = await this.bot.api.getUpdates({ offset: this.offset, timeout: this.opts.pollTimeoutSeconds ?? 30, allowed_updates: ['message', 'callback_query'] }, apiSignal);
        this.pollingUp = true;
        await this.handleUpdates(updates);
      } catch (err) {
        if (signal.aborted) break;
        this.pollingUp = false;
        if (err instanceof GrammyError && err.error_code === 401) {
          log.error(describeFailure(err));
          return;
        }
        // A conflict may be a webhook set since: the next round deletes it again.
        if (err instanceof GrammyError && err.error_code === 409) started = false;
        log.warn({ err: describeFailure(err) }, 'Telegram polling failed; retrying in 5 s');
        await this.pause(5000);
      }
    }
  }

  /** One batch, in order; stops at an update that was not stored, which the next poll asks for again. */
  private async handleUpdates(updates: Update[]): Promise<void> {
    const log = this.opts.logger;
    for (const update of updates) {
      try {
        await this.bot.handleUpdate(update);
      } catch (err) {
        const cause = err instanceof BotError ? err.error : err;
        if (cause instanceof NotStored) {
          // Everything before it is done with: the next poll starts at it.
          this.offset = update.update_id;
          const waitMs = Math.min(30_000, REFETCH_MS * 2 ** this.refetches++);
          log.warn({ update: update.update_id, retryInMs: waitMs }, 'a Telegram update was not stored; polling it again');
          await this.pause(waitMs);
          return;
        }
        log.warn({ err: cause, update: update.update_id }, 'a Telegram update could not be handled');
      }
      this.offset = update.update_id + 1;
    }
  }

  /** Waits, or less if the bot stops meanwhile. */
  private async pause(ms: number): Promise<void> {
    await wait(ms, undefined, { signal: this.stopping.signal, ref: false }).catch(() => {});
  }

  /** Hands an envelope to the ingress (`deliverInbound`); throws when it was not stored, so the update is not confirmed. */
  private async accept(envelope: Envelope, updateId: number): Promise<void> {
    const { ingress, logger, metrics } = this.opts;
    const stored = await deliverInbound(ingress, envelope, { redelivery: this.redelivery, logger, metrics });
    if (!stored.ack) throw new NotStored(updateId, stored.error!);
    this.refetches = 0;
  }
}

/** An error message that says what to fix; never includes the token. */
function describeFailure(err: unknown): string {
  if (err instanceof GrammyError && err.error_code === 401) {
    return 'Telegram refused the bot token (401 Unauthorized): check channels.telegram.token (from @BotFather)';
  }
  if (err instanceof GrammyError && err.error_code === 409) {
    return `Telegram answered 409 Conflict (${err.description}): another process is polling with this token, or a webhook is set`;
  }
  return `Telegram API call failed: ${(err as Error)?.message ?? String(err)}`;
}
