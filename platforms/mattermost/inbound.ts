import { deliverInbound, reportLostInbound } from '../../core/chat/inbound.js';
import type { Logger } from '../../core/log.js';
import type { Metrics } from '../../core/metrics.js';
import type { Envelope, InboundRedelivery, IngressSink } from '../../core/chat/types.js';
import type { ChannelCursors } from './cursors.js';
import type { ChannelDirectory } from './directory.js';
import { mightBeHuman, postToEnvelope, type ChannelInfo, type PostAuthor, type PostLike } from './parse.js';
import type { BotRoster, PersonaBot } from './roster.js';
import type { MattermostEvent } from './socket.js';

/** A catch-up never reaches further back than this (a bot down for a week does not answer a week of chat). */
export const MAX_CATCH_UP_MS = 24 * 60 * 60 * 1000;
const DONE_MEMORY = 5000;
/** The first re-read of a channel holding a post the ingress could not store; doubles up to a minute. */
const RETRY_CATCH_UP_MS = 1000;

/**
 * Posts coming in, from every bot's socket and from catch-ups, on their way to the ingress.
 * Each bot's work runs in order (its posts, then its catch-ups), so a channel's cursor only
 * moves forward. A post several bots see at once is taken in once: the first socket takes it,
 * the others wait for that and skip it; the ingress dedupes by envelope id on top of that.
 *
 * The read cursor is the acknowledgement: it moves past a post only once the ingress has stored
 * it (`deliverInbound`). A post the ingress could not store holds its channel's cursor before it
 * (later posts are taken in but do not move it) and a catch-up re-reads the channel from there
 * soon after, so the post is delivered again until it is stored. Not for ever: a post still not
 * stored `lostAfterMs` after it was first refused, or one older than the catch-up window (no
 * catch-up reads it again), is given up: logged as lost with its text, counted as
 * `pantheon_inbound_failures_total{outcome="lost"}`, and the cursor moves on.
 */
export class MattermostInbound {
  readonly redelivery: InboundRedelivery = 'platform';
  private readonly authors = new Map<string, PostAuthor>();
  private readonly inflight = new Map<string, Promise<boolean>>();
  private readonly done = new Set<string>();
  private readonly chains = new Map<string, Promise<void>>();
  /** Posts not stored yet, by channel, then post id: while a channel has one, its cursor stays where it is. */
  private readonly unstored = new Map<string, Map<string, Held>>();
  /** Re-reads scheduled for bots that saw a post not stored, and how many in a row. */
  private readonly retries = new Map<string, { timer?: NodeJS.Timeout; count: number }>();

  constructor(
    private readonly deps: {
      roster: BotRoster;
      cursors: ChannelCursors;
      directory: ChannelDirectory;
      ingress: IngressSink;
      logger: Logger;
      /** Counts posts the ingress could not store (`pantheon_inbound_failures_total`). */
      metrics?: Pick<Metrics, 'inboundFailures'>;
      /** Channels with no cursor yet are read from here (when this process started). */
      startedAt: number;
      /** The first re-read after a post was not stored (default 1 s; doubles up to a minute). */
      retryCatchUpMs?: number;
      /**
       * How long a post the ingress keeps refusing is read again before it is given up as lost
       * (default 24 h). One older than the catch-up window is given up anyway: no catch-up reads it.
       */
      lostAfterMs?: number;
      /** The clock (tests). */
      now?: () => number;
    },
  ) {}

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  onEvent(bot: PersonaBot, event: MattermostEvent): void {
    if (event.event !== 'posted' || typeof event.data.post !== 'string') return;
    let post: PostLike;
    try {
      post = JSON.parse(event.data.post) as PostLike;
    } catch {
      return;
    }
    const channel: ChannelInfo = { id: post.channel_id, name: String(event.data.channel_name ?? ''), type: String(event.data.channel_type ?? '') };
    this.deps.directory.remember(channel);
    this.inOrder(bot, () => this.take(bot, post, this.deps.directory.get(post.channel_id) ?? channel));
  }

  /** After a bot's socket (re)connects: read what it may have missed. */
  onReady(bot: PersonaBot): void {
    this.inOrder(bot, () =>
      this.catchUp(bot).catch((err) => {
        // Mattermost did not answer the re-read: posts still held are read again later.
        if (this.unstored.size) this.retryLater(bot);
        throw err;
      }),
    );
  }

  /** Resolves when every bot's queued work is done (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  private inOrder(bot: PersonaBot, work: () => Promise<void>): void {
    const previous = this.chains.get(bot.persona) ?? Promise.resolve();
    const next = previous.then(work).catch((err) => {
      this.deps.logger.error({ bot: bot.persona, err: (err as Error).message }, 'a Mattermost post could not be taken in');
    });
    this.chains.set(bot.persona, next);
  }

  /**
   * One post: to the ingress if a human wrote it; then the channel's cursor moves past it, unless
   * the channel holds a post not stored yet.
   */
  private async take(bot: PersonaBot, post: PostLike, channel: ChannelInfo): Promise<void> {
    if (mightBeHuman(post, this.deps.roster.team) && !this.done.has(post.id)) {
      let pending = this.inflight.get(post.id);
      if (!pending) {
        pending = this.ingest(post, channel).finally(() => this.inflight.delete(post.id));
        this.inflight.set(post.id, pending);
      }
      if (!(await pending) && !this.done.has(post.id)) {
        this.retryLater(bot);
        return;
      }
    }
    this.release(post);
  }

  /** The post is settled (stored, not for us, or given up): its channel's cursor moves past it unless another post holds it. */
  private release(post: PostLike): void {
    const held = this.unstored.get(post.channel_id);
    if (held?.delete(post.id) && held.size === 0) this.unstored.delete(post.channel_id);
    if (!this.unstored.size) for (const retry of this.retries.values()) retry.count = 0;
    if (!this.unstored.has(post.channel_id)) this.deps.cursors.advance(post.channel_id, post.create_at);
  }

  /** True once the post is stored (or is nothing to store, or was given up as lost). */
  private async ingest(post: PostLike, channel: ChannelInfo): Promise<boolean> {
    let author: PostAuthor;
    try {
      author = await this.author(post.user_id);
    } catch (err) {
      this.deps.logger.warn({ post: post.id, err: (err as Error).message }, 'could not tell who wrote a Mattermost post; reading it again later');
      return this.refused(post, channel, err as Error);
    }
    const envelope = postToEnvelope(post, channel, author, this.deps.roster.team);
    if (envelope) {
      const { ingress, logger, metrics } = this.deps;
      const result = await deliverInbound(ingress, envelope, { redelivery: this.redelivery, logger, metrics });
      if (!result.ack) return this.refused(post, channel, result.error ?? new Error('not stored'), envelope);
    }
    this.settled(post.id);
    return true;
  }

  private settled(postId: string): void {
    this.done.add(postId);
    if (this.done.size > DONE_MEMORY) this.done.delete(this.done.values().next().value!);
  }

  /** Holds a post that was not stored: false while it is read again, true once it has waited too long and was given up. */
  private refused(post: PostLike, channel: ChannelInfo, error: Error, envelope?: Envelope): boolean {
    const inChannel = this.unstored.get(post.channel_id) ?? new Map<string, Held>();
    this.unstored.set(post.channel_id, inChannel);
    const held = inChannel.get(post.id) ?? { post, channel, since: this.now(), attempts: 0, error };
    inChannel.set(post.id, held);
    held.attempts++;
    held.error = error;
    if (envelope) held.envelope = envelope;
    if (!this.overdue(held)) return false;
    this.giveUp(held, this.waitedTooLong(held));
    return true;
  }

  private overdue(held: Held): boolean {
    return this.now() - held.since >= (this.deps.lostAfterMs ?? MAX_CATCH_UP_MS);
  }

  private waitedTooLong(held: Held): string {
    return `in ${held.attempts} reads over ${Math.round((this.now() - held.since) / 60_000)} min, and Pantheon stops reading it again`;
  }

  /** Logs and counts a held post as lost, and remembers it as settled, so the cursor can move past it. */
  private giveUp(held: Held, why: string): void {
    const { post, channel } = held;
    // An author lookup that kept failing left no envelope: the user id stands in for the username.
    const envelope = held.envelope ?? postToEnvelope(post, channel, { id: post.user_id, username: post.user_id, isBot: false }, this.deps.roster.team);
    if (envelope) reportLostInbound(envelope, { error: held.error, attempts: held.attempts, why }, this.deps);
    this.settled(post.id);
  }

  /** Re-reads the bot's channels soon (backing off while it keeps failing), if it is still listening then. */
  private retryLater(bot: PersonaBot): void {
    const retry = this.retries.get(bot.persona) ?? { count: 0 };
    this.retries.set(bot.persona, retry);
    if (retry.timer) return;
    const delay = Math.min(60_000, (this.deps.retryCatchUpMs ?? RETRY_CATCH_UP_MS) * 2 ** retry.count++);
    retry.timer = setTimeout(() => {
      retry.timer = undefined;
      if (bot.socket) this.onReady(bot);
    }, delay);
    retry.timer.unref();
  }

  /** Who wrote a post (username and whether it is a bot), asked once per user. */
  private async author(userId: string): Promise<PostAuthor> {
    const known = this.authors.get(userId);
    if (known) return known;
    let lastError: unknown;
    for (const bot of this.deps.roster.signedIn()) {
      try {
        const user = await bot.client.getUser(userId);
        const author = { id: user.id, username: user.username, isBot: !!user.is_bot };
        if (this.authors.size >= DONE_MEMORY) this.authors.clear();
        this.authors.set(userId, author);
        return author;
      } catch (err) {
        lastError = err;
      }
    }
    throw new Error(`could not look up Mattermost user ${userId}: ${(lastError as Error)?.message ?? 'no bot is signed in'}`);
  }

  /**
   * Every channel the bot is in, posts since that channel's cursor (or since this process
   * started), oldest first, through the same path as live posts.
   */
  private async catchUp(bot: PersonaBot): Promise<void> {
    this.expireHeld();
    const floor = this.now() - MAX_CATCH_UP_MS;
    let taken = 0;
    for (const channel of await bot.client.getAllTeamsChannels()) {
      const info = { id: channel.id, name: channel.name, type: channel.type };
      this.deps.directory.remember(info);
      const cursor = this.deps.cursors.get(channel.id) ?? this.deps.startedAt;
      if (channel.last_post_at && channel.last_post_at <= cursor) continue;
      const since = Math.max(cursor, floor);
      this.outOfReach(channel.id, since);
      const list = await bot.client.getPostsSince(channel.id, since - 1);
      const posts = [...new Set(list.order)]
        .map((id) => list.posts[id])
        .filter((p): p is NonNullable<typeof p> => !!p && p.channel_id === channel.id && p.create_at >= since)
        .sort((a, b) => a.create_at - b.create_at);
      for (const post of posts) {
        await this.take(bot, post, info);
        taken++;
      }
    }
    if (taken) this.deps.logger.info({ bot: bot.persona, posts: taken }, 'caught up on Mattermost posts');
  }

  /**
   * Held posts of a channel older than where its re-read starts (the catch-up window) can never be
   * read again: given up, so the channel's cursor is free to move.
   */
  private outOfReach(channelId: string, since: number): void {
    for (const held of [...(this.unstored.get(channelId)?.values() ?? [])]) {
      if (held.post.create_at >= since || this.inflight.has(held.post.id)) continue;
      this.giveUp(held, 'and it is now older than the catch-up window, so nothing reads it again');
      this.release(held.post);
    }
  }

  /** Held posts past `lostAfterMs`, in any channel (also one no bot reads any more): given up. */
  private expireHeld(): void {
    for (const channel of [...this.unstored.values()]) {
      for (const held of [...channel.values()]) {
        if (this.inflight.has(held.post.id) || !this.overdue(held)) continue;
        this.giveUp(held, this.waitedTooLong(held));
        this.release(held.post);
      }
    }
  }
}

/** A post the ingress has not stored yet: what is needed to read it again, or to report it lost. */
interface Held {
  post: PostLike;
  channel: ChannelInfo;
  /** When it was first refused. */
  since: number;
  /** Reads that ended without storing it (each one `deliverInbound`'s retries, or an author lookup). */
  attempts: number;
  error: Error;
  envelope?: Envelope;
}
