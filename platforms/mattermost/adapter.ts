import { createHash } from 'node:crypto';
import type { Logger } from '../../core/log.js';
import type { PlatformAdapter, OutboundMessage, PostResult } from '../../core/chat/types.js';
import { approvalPost } from './cards.js';
import { socketUrl, statusOf, withRateLimit } from './client.js';
import type { ChannelDirectory } from './directory.js';
import { formatForMattermost, truncateForMattermost } from './format.js';
import type { MattermostInbound } from './inbound.js';
import { directPersona } from './parse.js';
import type { BotRoster, PersonaBot } from './roster.js';
import { BotSocket } from './socket.js';
import { decodeMattermostThreadId, encodeMattermostThreadId, isMattermostId } from './thread-id.js';

const SIGN_IN_RETRY_MS = 30_000;

export interface MattermostAdapterDeps {
  baseUrl: string;
  roster: BotRoster;
  directory: ChannelDirectory;
  inbound: MattermostInbound;
  logger: Logger;
  pingIntervalMs: number;
  /** Where button clicks go and the key that signs them; null: approval cards are posted as text. */
  actions: () => { url: string; secret: string } | null;
  /** Display names of personas, for those without a bot of their own. */
  personaName: (id: string) => string | undefined;
}

/**
 * Mattermost as a channel: every persona posts from its own bot account, in the thread
 * (`root_id`) the conversation is in; system messages come from the first bot (or, in a DM,
 * from the bot that is in it). Inbound, each bot keeps a watched WebSocket (socket.ts) and
 * hands posts to `MattermostInbound`, which takes each human post in once.
 */
export class MattermostAdapter implements PlatformAdapter {
  readonly name = 'mattermost';
  private signInRetry: NodeJS.Timeout | undefined;
  /** The personas whose bots listen here. */
  private readonly listening = new Set<string>();

  constructor(private readonly deps: MattermostAdapterDeps) {}

  /** Signs the bots in. Sockets are opened by `listen` (only where this process takes messages in). */
  async start(): Promise<void> {
    await this.deps.roster.identify();
    if (!this.deps.roster.system()) this.deps.logger.error('no Mattermost bot could sign in: Mattermost messages will not be answered until one can');
  }

  /**
   * Opens the watched socket of one persona's bot (where this process owns its lease), or of
   * every bot. A bot that could not sign in (Mattermost down at start, a token not yet valid) is
   * tried again every half minute and gets its socket then.
   */
  listen(persona?: string): void {
    for (const bot of this.deps.roster.bots) if (!persona || bot.persona === persona) this.listening.add(bot.persona);
    this.openSockets();
    if (this.signInRetry || this.allSignedIn()) return;
    this.signInRetry = setInterval(() => {
      void this.deps.roster.identify().then(() => {
        this.openSockets();
        if (!this.allSignedIn()) return;
        clearInterval(this.signInRetry);
        this.signInRetry = undefined;
      });
    }, SIGN_IN_RETRY_MS);
    this.signInRetry.unref();
  }

  /** Closes one bot's socket (its lease was lost or given up), once what it took in is handed on. */
  async unlisten(persona: string): Promise<void> {
    this.listening.delete(persona);
    const bot = this.deps.roster.bots.find((b) => b.persona === persona);
    bot?.socket?.stop();
    if (bot) bot.socket = undefined;
    await this.deps.inbound.idle();
  }

  /** Whether a persona's socket is up; a bot that cannot sign in is reported by the roster, not here. */
  listeningUp(persona: string): boolean {
    const bot = this.deps.roster.bot(persona);
    return !bot || !!bot.socket?.isReady;
  }

  private allSignedIn(): boolean {
    return [...this.listening].every((p) => this.deps.roster.bot(p));
  }

  private openSockets(): void {
    const url = socketUrl(this.deps.baseUrl);
    for (const bot of this.deps.roster.signedIn()) {
      if (bot.socket || !this.listening.has(bot.persona)) continue;
      bot.socket = new BotSocket({
        url,
        token: bot.token,
        name: bot.persona,
        pingIntervalMs: this.deps.pingIntervalMs,
        logger: this.deps.logger,
        onEvent: (event) => this.deps.inbound.onEvent(bot, event),
        onReady: () => this.deps.inbound.onReady(bot),
      });
      bot.socket.start();
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.signInRetry);
    this.signInRetry = undefined;
    this.listening.clear();
    for (const bot of this.deps.roster.bots) {
      bot.socket?.stop();
      bot.socket = undefined;
    }
    await this.deps.inbound.idle();
  }

  async post(message: OutboundMessage): Promise<PostResult> {
    const { channelId: ref, rootId } = decodeMattermostThreadId(message.threadId);
    const bot = await this.speaker(message.persona, ref);
    const channelId = await this.deps.directory.resolve(bot, ref);
    const own = !!message.persona && this.deps.roster.bot(message.persona) === bot;
    const text = message.persona && !own ? `**${this.deps.personaName(message.persona) ?? message.persona}:** ${message.text}` : message.text;
    const actions = message.card ? this.deps.actions() : null;
    const posts: Array<{ message: string; props?: Record<string, unknown> }> =
      message.card && actions
        ? [approvalPost(message.card, { actionsUrl: actions.url, secret: actions.secret, threadId: message.threadId })]
        : formatForMattermost(message.card?.fallbackText ?? text, this.deps.roster.usernames).map((part) => ({ message: part }));
    let first: string | undefined;
    for (const [i, part] of posts.entries()) {
      const created = await this.create(bot, {
        channel_id: channelId,
        root_id: rootId ?? '',
        message: part.message,
        props: part.props,
        // Mattermost returns the existing post for a pending_post_id it has seen: a retried send posts once.
        pending_post_id: `${bot.user!.id}:${digest(message.idempotencyKey)}:${i}`,
      });
      first ??= created.id;
    }
    return { id: first! };
  }

  async edit(threadId: string, messageId: string, message: OutboundMessage): Promise<void> {
    const { channelId } = decodeMattermostThreadId(threadId);
    const bot = await this.speaker(message.persona, channelId);
    const [text] = formatForMattermost(message.text, this.deps.roster.usernames);
    await withRateLimit(() => bot.client.patchPost({ id: messageId, message: truncateForMattermost(text ?? '') }));
  }

  async typing(threadId: string, persona?: string): Promise<void> {
    const { channelId, rootId } = decodeMattermostThreadId(threadId);
    const bot = this.deps.roster.bot(persona) ?? this.deps.roster.system();
    if (!bot?.socket) return;
    const id = await this.deps.directory.resolve(bot, channelId);
    bot.socket.send('user_typing', { channel_id: id, parent_id: rootId ?? '' });
  }

  /** A DM with a person, by username: the bot opens the direct channel when it first posts. */
  directThreadId(userId: string): string | undefined {
    return userId ? encodeMattermostThreadId({ channelId: `@${userId.replace(/^@/, '')}` }) : undefined;
  }

  encodeThreadId(parts: Record<string, string>): string {
    return encodeMattermostThreadId({ channelId: parts.channelId ?? '', rootId: parts.rootId || undefined });
  }

  decodeThreadId(threadId: string): Record<string, string> {
    const { channelId, rootId } = decodeMattermostThreadId(threadId);
    return rootId ? { channelId, rootId } : { channelId };
  }

  /**
   * Who speaks: the persona's own bot; for the system (or a persona without a bot), the first
   * bot. A DM only its members can post in: there the bot that is in it speaks, naming the
   * persona when it is not its own (a handoff inside someone's DM with another persona).
   */
  private async speaker(persona: string | undefined, channelRef: string): Promise<PersonaBot> {
    const { roster } = this.deps;
    if (!roster.system() || (persona && !roster.bot(persona) && roster.bots.some((b) => b.persona === persona))) await roster.identify();
    const system = roster.system();
    if (!system) throw new Error("no Mattermost bot is signed in (check the personas' handles.mattermost.token)");
    const own = roster.bot(persona);
    const info = isMattermostId(channelRef) ? await this.channelInfo(channelRef) : undefined;
    if (info?.type === 'D' && !(own && info.name.split('__').includes(own.user!.id))) {
      const member = roster.bot(directPersona(info.name, roster.team));
      if (member) return member;
    }
    return own ?? system;
  }

  /** A channel's name and type, asked of each bot in turn (a DM is readable only by its members). */
  private async channelInfo(channelId: string) {
    for (const bot of this.deps.roster.signedIn()) {
      const info = await this.deps.directory.describe(bot, channelId);
      if (info) return info;
    }
    return undefined;
  }

  /** Creates a post; a persona's bot not yet in a public channel joins it once and tries again. */
  private async create(bot: PersonaBot, post: { channel_id: string; root_id: string; message: string; props?: Record<string, unknown>; pending_post_id: string }) {
    try {
      return await withRateLimit(() => bot.client.createPost(post as never));
    } catch (err) {
      if (statusOf(err) !== 403) throw err;
      await bot.client.addToChannel(bot.user!.id, post.channel_id);
      this.deps.logger.info({ persona: bot.persona, channel: post.channel_id }, "the persona's bot joined the channel to answer there");
      return await withRateLimit(() => bot.client.createPost(post as never));
    }
  }
}

function digest(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 24);
}
