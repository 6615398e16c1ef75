import type { PlatformAdapter, OutboundMessage, PostResult } from '../../core/chat/types.js';
import type { Logger } from '../../core/log.js';
import { slackErrorCode, type SlackApi } from './api.js';
import { approvalBlocks } from './cards.js';
import { formatForSlack, toMrkdwn } from './format.js';
import { decodeSlackThreadId, encodeSlackThreadId } from './thread-id.js';

/** Errors that mean "this app cannot speak here", so another persona's app may try. */
const NOT_HERE = new Set(['not_in_channel', 'channel_not_found', 'cant_update_message', 'message_not_found']);
/** How many posted parts are remembered for idempotency within this process (the outbox covers restarts). */
const REMEMBERED_POSTS = 5000;

export interface SlackAdapterOptions {
  /** Each persona's own Slack app, by persona id. */
  apis: ReadonlyMap<string, SlackApi>;
  /** The persona whose app speaks for the system (and for personas without an app of their own). */
  voice: string;
  /** Display names, for a persona speaking through another persona's app. */
  displayName: (persona: string) => string;
  logger: Logger;
}

/**
 * The Slack adapter: one Slack app per persona, and each persona posts through its own app, in
 * the thread the conversation lives in. A persona whose app is not in the channel (or that has no
 * app) speaks through one that is, with its name in front, so the conversation never goes silent.
 */
export class SlackAdapter implements PlatformAdapter {
  readonly name = 'slack';
  private readonly posted = new Map<string, { ts: string; persona: string }>();
  /** The app known to work in a channel (DMs belong to one app). */
  private readonly channelApp = new Map<string, string>();

  constructor(private readonly opts: SlackAdapterOptions) {}

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  /** Called by inbound handling: this persona's app can see (so can post to) this channel. */
  rememberChannel(channel: string, persona: string): void {
    if (!this.channelApp.has(channel)) this.channelApp.set(channel, persona);
  }

  async post(message: OutboundMessage): Promise<PostResult> {
    const { channel, thread } = decodeSlackThreadId(message.threadId);
    const parts = formatForSlack(message.text);
    let first: string | undefined;
    for (let i = 0; i < parts.length; i++) {
      const key = `${message.idempotencyKey}#${i}`;
      const done = this.posted.get(key);
      if (done) {
        first ??= done.ts;
        continue;
      }
      const card = i === 0 && message.card ? message.card : undefined;
      const sent = await this.speak(message.persona, channel, async (api, prefix) => {
        if (card) {
          try {
            return await api.postMessage({ channel, thread_ts: thread, text: prefix + toMrkdwn(card.fallbackText), blocks: approvalBlocks(card) });
          } catch (err) {
            const code = slackErrorCode(err);
            if (!code || NOT_HERE.has(code)) throw err;
            // Slack refused the blocks: the text alone still says how to answer.
            this.opts.logger.warn({ code, approval: card.approvalId }, 'slack refused the approval card; posting its text');
          }
        }
        return api.postMessage({ channel, thread_ts: thread, text: prefix + parts[i]! });
      });
      this.remember(key, sent);
      first ??= sent.ts;
    }
    return { id: first! };
  }

  async edit(threadId: string, messageId: string, message: OutboundMessage): Promise<void> {
    const { channel } = decodeSlackThreadId(threadId);
    const text = formatForSlack(message.text)[0]!;
    const poster = [...this.posted.values()].find((p) => p.ts === messageId)?.persona ?? message.persona;
    await this.speak(poster, channel, (api, prefix) =>
      api.update({ channel, ts: messageId, text: prefix + text, blocks: message.card ? approvalBlocks(message.card) : undefined }).then(() => ({ ts: messageId })),
    );
  }

  encodeThreadId(parts: Record<string, string>): string {
    return encodeSlackThreadId(parts);
  }

  decodeThreadId(threadId: string): Record<string, string> {
    return { ...decodeSlackThreadId(threadId) };
  }

  /**
   * Runs `send` with the speaker's own app, or else with the first app that can speak in the
   * channel (the prefix then names the speaker). Only "not here" errors move on to the next app.
   */
  private async speak<T extends { ts: string }>(persona: string | undefined, channel: string, send: (api: SlackApi, prefix: string) => Promise<T>): Promise<T & { persona: string }> {
    const { apis } = this.opts;
    const known = this.channelApp.get(channel);
    // A DM belongs to one app; elsewhere the voice's app speaks for the system and for personas without one.
    const order = [persona, ...(channel.startsWith('D') ? [known, this.opts.voice] : [this.opts.voice, known]), ...apis.keys()].filter((p): p is string => !!p && apis.has(p));
    let lastError: unknown = new Error(`no Slack app can post in ${channel}`);
    for (const candidate of new Set(order)) {
      const prefix = persona && candidate !== persona ? `*${this.opts.displayName(persona)}:* ` : '';
      try {
        const result = await send(apis.get(candidate)!, prefix);
        this.rememberChannel(channel, candidate);
        return { ...result, persona: candidate };
      } catch (err) {
        const code = slackErrorCode(err);
        if (!code || !NOT_HERE.has(code)) throw err;
        lastError = err;
      }
    }
    throw lastError;
  }

  private remember(key: string, sent: { ts: string; persona: string }): void {
    this.posted.set(key, { ts: sent.ts, persona: sent.persona });
    if (this.posted.size > REMEMBERED_POSTS) this.posted.delete(this.posted.keys().next().value!);
  }
}
