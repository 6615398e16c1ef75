import { createHash } from 'node:crypto';
import { setTimeout as wait } from 'node:timers/promises';
import { Routes, type APIMessage } from 'discord.js';
import type { Logger } from '../../core/log.js';
import type { Metrics } from '../../core/metrics.js';
import { deliverInbound } from '../../core/chat/inbound.js';
import type { PlatformAdapter, Envelope, InboundRedelivery, InboundResult, IngressSink, OutboundMessage, PostResult } from '../../core/chat/types.js';
import type { BotEvents, PersonaBot } from './bot.js';
import { approvalComponents } from './cards.js';
import { discordEditText, discordParts } from './format.js';
import { parseDiscordClick, parseDiscordMessage } from './parse.js';
import { decodeDiscordThreadId, encodeDiscordThreadId } from './thread-id.js';

export interface DiscordAdapterOptions {
  /** Each persona's own bot, by persona id. */
  bots: Map<string, PersonaBot>;
  /** The bot that speaks for the system (approval requests, notices). */
  systemPersona: string;
  /** Display names, for a persona that speaks through another bot. */
  displayName: (persona: string) => string;
  ingress: IngressSink;
  logger: Logger;
  /** Counts messages the ingress could not store (`pantheon_inbound_failures_total`). */
  metrics?: Pick<Metrics, 'inboundFailures'>;
}

/**
 * Discord: every persona posts as its own bot; messages and button presses heard by any of the
 * bots become envelopes. A guild message reaches every bot, so each is handed on once (and the
 * ingress dedupes by `discord:<messageId>` anyway).
 *
 * Inbound goes through `deliverInbound`. A gateway event is never delivered again, so a message
 * the ingress could not store after every retry is reported lost (logged with its text, counted);
 * a button press is acknowledged to Discord only once stored (else the clicker sees it failed).
 */
export class DiscordAdapter implements PlatformAdapter {
  readonly name = 'discord';
  readonly redelivery: InboundRedelivery = 'none';
  private readonly byUserId = new Map<string, string>();
  private readonly seen = new Set<string>();
  /** Envelopes on their way to the ingress: another bot's copy waits for the same outcome. */
  private readonly inflight = new Map<string, Promise<InboundResult>>();
  /** Reconnection attempts waiting, by persona. */
  private readonly retries = new Map<string, NodeJS.Timeout>();
  /** The personas whose gateways are wanted here. */
  private readonly listening = new Set<string>();
  private learning: Promise<void> | undefined;

  constructor(private readonly opts: DiscordAdapterOptions) {}

  /**
   * Learns every bot's user id (so a mention of any of them reads as @persona from the first
   * message), then connects every bot's gateway. A bot that cannot connect is logged and
   * retried with backoff, unless its token is refused; the others go on.
   */
  async start(): Promise<void> {
    await this.learnUserIds();
    await Promise.all([...this.opts.bots.keys()].map((persona) => this.listen(persona)));
  }

  /** One persona's gateway (where this process owns its lease), after every bot's user id is known. */
  async listen(persona: string): Promise<void> {
    const bot = this.opts.bots.get(persona);
    if (!bot || this.listening.has(persona)) return;
    this.listening.add(persona);
    await this.learnUserIds();
    await this.connect(bot, 0);
  }

  /** Closes one persona's gateway (its lease was lost or given up); posting goes on over REST. */
  async unlisten(persona: string): Promise<void> {
    this.listening.delete(persona);
    const retry = this.retries.get(persona);
    clearTimeout(retry);
    this.retries.delete(persona);
    await this.opts.bots
      .get(persona)
      ?.disconnect()
      .catch(() => {});
  }

  async stop(): Promise<void> {
    await Promise.all([...this.opts.bots.keys()].map((persona) => this.unlisten(persona)));
  }

  /** Bounded: an unreachable Discord must not hold up the start (connect reports it). */
  private learnUserIds(): Promise<void> {
    this.learning ??= Promise.all(
      [...this.opts.bots.values()].map(async (bot) => {
        const id = await Promise.race([bot.whoAmI().catch(() => undefined), sleep(10_000)]);
        if (id) this.byUserId.set(id, bot.persona);
      }),
    ).then(() => undefined);
    return this.learning;
  }

  private async connect(bot: PersonaBot, attempt: number): Promise<void> {
    const events: BotEvents = {
      message: async (m) => {
        await this.hand(parseDiscordMessage(m, (id) => this.byUserId.get(id)));
      },
      click: async (c) => (await this.hand(parseDiscordClick(c))).ack,
    };
    try {
      await bot.connect(events);
      if (!this.listening.has(bot.persona)) return void (await bot.disconnect().catch(() => {}));
      this.byUserId.set(bot.userId!, bot.persona);
      this.opts.logger.info({ persona: bot.persona, discordUser: bot.userId }, 'discord bot connected');
    } catch (err) {
      const refused = (err as { code?: string }).code === 'TokenInvalid' || (err as { status?: number }).status === 401;
      const retryMs = Math.min(300_000, 5_000 * 2 ** attempt);
      this.opts.logger.error(
        { persona: bot.persona, err: (err as Error).message, retryInMs: refused ? undefined : retryMs },
        refused ? "discord refused this bot's token: check handles.discord.token" : 'discord bot could not connect: check channels.discord.apiUrl; retrying',
      );
      if (refused || !this.listening.has(bot.persona)) return;
      const timer = setTimeout(() => {
        this.retries.delete(bot.persona);
        if (this.listening.has(bot.persona)) void this.connect(bot, attempt + 1);
      }, retryMs);
      timer.unref();
      this.retries.set(bot.persona, timer);
    }
  }

  async post(message: OutboundMessage): Promise<PostResult> {
    const { channelId } = decodeDiscordThreadId(message.threadId);
    const { bot, prefix } = this.speaker(message);
    const parts = discordParts(prefix + message.text);
    const reference = /^discord:(\d+)$/.exec(message.replyTo ?? '')?.[1];
    let first: APIMessage | undefined;
    for (const [i, content] of parts.entries()) {
      const last = i === parts.length - 1;
      const body = {
        content,
        // Discord drops a repeated nonce for a few minutes: a retried send posts once.
        nonce: nonceFor(message.idempotencyKey, i),
        enforce_nonce: true,
        allowed_mentions: { parse: ['users'] },
        ...(i === 0 && reference ? { message_reference: { message_id: reference, fail_if_not_exists: false } } : {}),
        ...(last && message.card ? { components: approvalComponents(message.card) } : {}),
      };
      const posted = await this.create(bot, channelId, body, message);
      first ??= posted;
    }
    return { id: first!.id };
  }

  async edit(threadId: string, messageId: string, message: OutboundMessage): Promise<void> {
    const { channelId } = decodeDiscordThreadId(threadId);
    const { bot, prefix } = this.speaker(message);
    await bot.rest.patch(Routes.channelMessage(channelId, messageId), {
      body: { content: discordEditText(prefix + message.text), ...(message.card ? { components: approvalComponents(message.card) } : {}) },
    });
  }

  async typing(threadId: string, persona?: string): Promise<void> {
    const { channelId } = decodeDiscordThreadId(threadId);
    const { bot } = this.speaker({ persona, threadId });
    await bot.rest.post(Routes.channelTyping(channelId));
  }

  encodeThreadId(parts: Record<string, string>): string {
    return encodeDiscordThreadId(parts);
  }

  decodeThreadId(threadId: string): Record<string, string> {
    const parts: Record<string, string> = {};
    for (const [k, v] of Object.entries(decodeDiscordThreadId(threadId))) if (v !== undefined) parts[k] = v;
    return parts;
  }

  /** Resolves once every message on its way to the ingress has got there or been reported lost. */
  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight.values()]);
  }

  /**
   * One envelope to the ingress, once however many bots heard it: a copy that comes while the
   * first is on its way shares its outcome, one that comes after it was stored is acknowledged.
   */
  private hand(envelope: Envelope | null): Promise<InboundResult> {
    if (!envelope) return Promise.resolve({ ack: true, id: '', accepted: false, attempts: 0 });
    const pending = this.inflight.get(envelope.id);
    if (pending) return pending;
    if (this.seen.has(envelope.id)) return Promise.resolve({ ack: true, id: envelope.id, accepted: false, attempts: 0 });
    const { ingress, logger, metrics } = this.opts;
    const delivery = deliverInbound(ingress, envelope, { redelivery: this.redelivery, logger, metrics }).then((result) => {
      this.inflight.delete(envelope.id);
      if (result.ack) this.remember(envelope.id);
      return result;
    });
    this.inflight.set(envelope.id, delivery);
    return delivery;
  }

  /** Envelopes stored already, so a late copy from another bot costs no trip to the ingress. */
  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > 2000) this.seen.delete(this.seen.values().next().value!);
  }

  /**
   * The bot that says `message`: in a DM only the bot whose DM it is can post; elsewhere the
   * persona's own bot, or the system's for system messages and personas without a Discord bot
   * (their name then leads the text).
   */
  private speaker(message: Pick<OutboundMessage, 'persona' | 'threadId'>): { bot: PersonaBot; prefix: string } {
    const { dm } = decodeDiscordThreadId(message.threadId);
    const bot = (dm && this.opts.bots.get(dm)) || (message.persona && this.opts.bots.get(message.persona)) || this.opts.bots.get(this.opts.systemPersona) || [...this.opts.bots.values()][0]!;
    const prefix = message.persona && bot.persona !== message.persona ? `**${this.opts.displayName(message.persona)}**: ` : '';
    return { bot, prefix };
  }

  /** Posts one part; when Discord refuses the buttons, the text (which says how to answer) goes alone. */
  private async create(bot: PersonaBot, channelId: string, body: Record<string, unknown>, message: OutboundMessage): Promise<APIMessage> {
    try {
      return (await bot.rest.post(Routes.channelMessages(channelId), { body })) as APIMessage;
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (!body.components || status !== 400) throw err;
      this.opts.logger.warn({ key: message.idempotencyKey, err: (err as Error).message }, 'discord refused the approval buttons; posting the text alone');
      const { components: _dropped, ...plain } = body;
      return (await bot.rest.post(Routes.channelMessages(channelId), { body: { ...plain, nonce: nonceFor(message.idempotencyKey, 'plain') } })) as APIMessage;
    }
  }
}

/** A Discord nonce (at most 25 characters) derived from the idempotency key and part. */
function nonceFor(key: string, part: number | string): string {
  return createHash('sha256').update(`${key}\u0000${part}`).digest('base64url').slice(0, 25);
}

const sleep = (ms: number) => wait(ms, undefined, { ref: false });
