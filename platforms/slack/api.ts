import { setTimeout as sleep } from 'node:timers/promises';
import { LogLevel, webApi } from '@slack/bolt';
import type { Logger } from '../../core/log.js';
import { registerSecret } from '../../core/log.js';

/** Who a persona is in Slack: learned from `auth.test` with its bot token. */
export interface SlackIdentity {
  persona: string;
  /** The app's bot user, `U…`: `<@U…>` in a message mentions this persona. */
  botUserId: string;
  botId?: string;
  teamId: string;
}

export interface SlackApiOptions {
  persona: string;
  botToken: string;
  /** `channels.slack.apiUrl` (default `https://slack.com/api/`). */
  apiUrl?: string;
  logger: Logger;
  /**
   * The longest a call waits out rate limits (`429 Retry-After`) before giving up and letting the
   * outbox retry the whole post later. Slack asks for about one message a second per channel.
   */
  maxRateLimitWaitMs?: number;
}

/** The Web API error code of a failed call (`not_in_channel`, `invalid_auth`...), if Slack gave one. */
export function slackErrorCode(err: unknown): string | undefined {
  const data = (err as { data?: { error?: unknown } } | undefined)?.data;
  return typeof data?.error === 'string' ? data.error : undefined;
}

/**
 * One persona's Slack Web API client: built from that persona's bot token only, so everything it
 * posts shows as that persona's app. Rate limits are waited out here (the outbox thread waits; a
 * post is never dropped); other failures throw, and the outbox retries with backoff.
 */
export class SlackApi {
  readonly persona: string;
  readonly client: InstanceType<typeof webApi.WebClient>;
  private readonly maxWaitMs: number;
  private readonly logger: Logger;

  constructor(opts: SlackApiOptions) {
    registerSecret(opts.botToken);
    this.persona = opts.persona;
    this.logger = opts.logger;
    this.maxWaitMs = opts.maxRateLimitWaitMs ?? 120_000;
    this.client = new webApi.WebClient(opts.botToken, {
      slackApiUrl: opts.apiUrl,
      logger: slackLogger(opts.logger, { slack: opts.persona }),
      logLevel: LogLevel.WARN,
      // We handle 429s ourselves (below) so the wait is bounded and visible; transient network
      // failures get two quick retries, the outbox does the rest.
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 2, minTimeout: 200, maxTimeout: 1000 },
      timeout: 15_000,
    });
  }

  async authTest(): Promise<SlackIdentity> {
    const r = await this.call('auth.test', () => this.client.auth.test());
    if (!r.user_id) throw new Error(`auth.test for ${this.persona}'s Slack app returned no bot user`);
    return { persona: this.persona, botUserId: r.user_id, botId: r.bot_id, teamId: r.team_id ?? 'slack' };
  }

  async postMessage(args: { channel: string; text: string; thread_ts?: string; blocks?: Array<Record<string, unknown>> }): Promise<{ ts: string; channel: string }> {
    const r = await this.call('chat.postMessage', () => this.client.chat.postMessage({ ...args, blocks: args.blocks as never, unfurl_links: false, unfurl_media: false }));
    return { ts: r.ts!, channel: r.channel ?? args.channel };
  }

  async update(args: { channel: string; ts: string; text: string; blocks?: Array<Record<string, unknown>> }): Promise<void> {
    await this.call('chat.update', () => this.client.chat.update({ ...args, blocks: args.blocks as never }));
  }

  /** A person's display name; undefined when Slack will not say. */
  async userName(userId: string): Promise<string | undefined> {
    try {
      const r = await this.call('users.info', () => this.client.users.info({ user: userId }));
      return r.user?.profile?.display_name || r.user?.real_name || r.user?.name || undefined;
    } catch (err) {
      this.logger.debug({ err: (err as Error).message, user: userId }, 'slack users.info failed');
      return undefined;
    }
  }

  /** Runs a call, sleeping through `429 Retry-After` answers for up to `maxRateLimitWaitMs` in all. */
  private async call<T>(method: string, fn: () => Promise<T>): Promise<T> {
    let waited = 0;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        const retryAfter = (err as { code?: string; retryAfter?: number }).code === webApi.ErrorCode.RateLimitedError ? (err as { retryAfter: number }).retryAfter : undefined;
        if (retryAfter === undefined) throw err;
        const waitMs = Math.max(1, retryAfter) * 1000;
        if (waited + waitMs > this.maxWaitMs) throw new Error(`Slack kept rate-limiting ${method} for ${this.persona} (retry after ${retryAfter}s); the outbox will try again later`);
        this.logger.warn({ persona: this.persona, method, retryAfter }, 'slack rate limit: waiting before retrying');
        waited += waitMs;
        await sleep(waitMs);
      }
    }
  }
}

/** @slack/logger's interface over our logger: their debug chatter (payloads, URLs) is dropped. */
export function slackLogger(logger: Logger, bindings: Record<string, unknown>) {
  const child = logger.child({ component: 'slack', ...bindings });
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' ');
  let level: LogLevel = LogLevel.INFO;
  return {
    debug: () => {},
    info: (...msg: unknown[]) => child.debug(text(msg)),
    warn: (...msg: unknown[]) => child.warn(text(msg)),
    error: (...msg: unknown[]) => child.error(text(msg)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
