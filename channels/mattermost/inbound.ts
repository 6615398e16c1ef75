import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../core/log.js';
import type { IngressSink } from '../../core/chat/types.js';
import type { ChannelCursors } from './cursors.js';
import type { ChannelDirectory } from './directory.js';
import { mightBeHuman, postToEnvelope, type ChannelInfo, type PostAuthor, type PostLike } from './parse.js';
import type { BotRoster, PersonaBot } from './roster.js';
import type { MattermostEvent } from './socket.js';

/** A catch-up never reaches further back than this (a bot down for a week does not answer a week of chat). */
export const MAX_CATCH_UP_MS = 24 * 60 * 60 * 1000;
const DONE_MEMORY = 5000;

/**
 * Posts coming in, from every bot's socket and from catch-ups, on their way to the ingress.
 * Each bot's work runs in order (its posts, then its catch-ups), so a channel's cursor only
 * moves forward. A post several bots see at once is taken in once: the first socket takes it,
 * the others wait for that and skip it; the ingress dedupes by envelope id on top of that.
 */
export class MattermostInbound {
  private readonly authors = new Map<string, PostAuthor>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly done = new Set<string>();
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly deps: {
    roster: BotRoster;
    cursors: ChannelCursors;
    directory: ChannelDirectory;
    ingress: IngressSink;
    logger: Logger;
    /** Channels with no cursor yet are read from here (when this process started). */
    startedAt: number;
  }) {}

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
    this.inOrder(bot, () => this.take(post, this.deps.directory.get(post.channel_id) ?? channel));
  }

  /** After a bot's socket (re)connects: read what it may have missed. */
  onReady(bot: PersonaBot): void {
    this.inOrder(bot, () => this.catchUp(bot));
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

  /** One post: to the ingress if a human wrote it; then the channel's cursor moves past it. */
  private async take(post: PostLike, channel: ChannelInfo): Promise<void> {
    if (mightBeHuman(post, this.deps.roster.team) && !this.done.has(post.id)) {
      let pending = this.inflight.get(post.id);
      if (!pending) {
        pending = this.ingest(post, channel).finally(() => this.inflight.delete(post.id));
        this.inflight.set(post.id, pending);
      }
      await pending;
    }
    this.deps.cursors.advance(post.channel_id, post.create_at);
  }

  private async ingest(post: PostLike, channel: ChannelInfo): Promise<void> {
    const author = await this.author(post.user_id);
    const envelope = postToEnvelope(post, channel, author, this.deps.roster.team);
    if (envelope) {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.deps.ingress(envelope);
          break;
        } catch (err) {
          if (attempt >= 3) throw err;
          await sleep(250 * attempt);
        }
      }
    }
    this.done.add(post.id);
    if (this.done.size > DONE_MEMORY) this.done.delete(this.done.values().next().value!);
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
    const floor = Date.now() - MAX_CATCH_UP_MS;
    let taken = 0;
    for (const channel of await bot.client.getAllTeamsChannels()) {
      const info = { id: channel.id, name: channel.name, type: channel.type };
      this.deps.directory.remember(info);
      const cursor = this.deps.cursors.get(channel.id) ?? this.deps.startedAt;
      if (channel.last_post_at && channel.last_post_at <= cursor) continue;
      const since = Math.max(cursor, floor);
      const list = await bot.client.getPostsSince(channel.id, since - 1);
      const posts = [...new Set(list.order)]
        .map((id) => list.posts[id])
        .filter((p): p is NonNullable<typeof p> => !!p && p.channel_id === channel.id && p.create_at >= since)
        .sort((a, b) => a.create_at - b.create_at);
      for (const post of posts) {
        await this.take(post, info);
        taken++;
      }
    }
    if (taken) this.deps.logger.info({ bot: bot.persona, posts: taken }, 'caught up on Mattermost posts');
  }
}
