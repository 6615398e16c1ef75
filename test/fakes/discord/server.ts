import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeGateway } from './gateway.js';
import { FakeRest, type RateLimitRule, type RecordedPost, type RestLog } from './rest.js';
import { apiChannel, apiMember, apiUser, ChannelKind, FakeDiscordState, snowflake, type FakeBot, type FakeChannel, type FakeUser, type Json } from './state.js';

/** A running fake Discord (REST + gateway) on 127.0.0.1. */
export interface FakeDiscord {
  /** `http://127.0.0.1:<port>/api`: what discord.js wants as `rest.api` (and `channels.discord.apiUrl`). */
  apiUrl: string;
  /** `ws://127.0.0.1:<port>/gateway`, handed out by `GET /gateway/bot`. */
  gatewayUrl: string;
  state: FakeDiscordState;
  log: RestLog;
  gateway: FakeGateway;
  /** Registers a bot account; its token then authenticates REST and IDENTIFY. */
  addBot(token: string, username: string): FakeBot;
  addHuman(username: string): FakeUser;
  createGuild(name: string): { id: string; name: string };
  createChannel(guildId: string, name: string): FakeChannel;
  /** Starts a public thread under a text channel (THREAD_CREATE to every bot). */
  createThread(parentId: string, name: string): FakeChannel;
  /** A human writes in a guild channel or thread; every connected bot gets MESSAGE_CREATE. */
  say(channelId: string, user: FakeUser, content: string): Json;
  /** A human writes to a bot in a DM; only that bot gets it. */
  dm(user: FakeUser, bot: FakeBot, content: string): Json;
  /** The gateway delivers a human's message again (as Discord replays events on a resumed session). */
  replay(message: Json): void;
  /** A human clicks a button on a message; the bot that posted it gets INTERACTION_CREATE. Returns the interaction id. */
  click(messageId: string, customId: string, user: FakeUser): string;
  /** The next `times` message creates (by `token`, or anyone) answer 429 for `retryAfterMs`. */
  rateLimitNext(rule: Partial<RateLimitRule> & { retryAfterMs: number }): void;
  /** The next `times` message creates with components answer 400 (Discord refusing the buttons). */
  refuseComponentsNext(times?: number): void;
  /** After `after` message creates, the next `times` answer 503 (discord.js retries a 5xx 3 times itself). */
  failCreatesAfter(after: number, times: number): void;
  postsBy(token: string): RecordedPost[];
  postsIn(channelId: string): RecordedPost[];
  /** Resolves once every given bot has a gateway session (and so is READY). */
  waitConnected(tokens: string[], timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeDiscord(opts: { heartbeatIntervalMs?: number } = {}): Promise<FakeDiscord> {
  const state = new FakeDiscordState();
  let port = 0;
  const gateway = new FakeGateway(state, opts.heartbeatIntervalMs ?? 41250);
  const rest = new FakeRest(state, gateway, () => `ws://127.0.0.1:${port}/gateway`);
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/api/')) return void rest.handle(req, res);
    res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket, head) => {
    if (req.url?.startsWith('/gateway')) gateway.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  const owner = state.addHuman('guild-owner');

  const inGuild = (channel: FakeChannel) => (bot: FakeBot) => state.canSee(bot, channel);
  const channelOf = (id: string) => {
    const c = state.channels.get(id);
    if (!c) throw new Error(`fake discord: no channel ${id}`);
    return c;
  };

  const fake: FakeDiscord = {
    apiUrl: `http://127.0.0.1:${port}/api`,
    gatewayUrl: `ws://127.0.0.1:${port}/gateway`,
    state,
    log: rest.log,
    gateway,
    addBot: (token, username) => state.addBot(token, username),
    addHuman: (username) => state.addHuman(username),
    createGuild(name) {
      const guild = { id: snowflake(), name, ownerId: owner.id };
      state.guilds.set(guild.id, guild);
      gateway.dispatch('GUILD_CREATE', state.apiGuild(guild));
      return { id: guild.id, name };
    },
    createChannel(guildId, name) {
      const channel: FakeChannel = { id: snowflake(), type: ChannelKind.GuildText, name, guildId };
      state.channels.set(channel.id, channel);
      gateway.dispatch('CHANNEL_CREATE', apiChannel(channel));
      return channel;
    },
    createThread(parentId, name) {
      const parent = channelOf(parentId);
      const thread: FakeChannel = { id: snowflake(), type: ChannelKind.PublicThread, name, guildId: parent.guildId, parentId };
      state.channels.set(thread.id, thread);
      gateway.dispatch('THREAD_CREATE', { ...apiChannel(thread), newly_created: true });
      return thread;
    },
    say(channelId, user, content) {
      const channel = channelOf(channelId);
      const message = state.createMessage(channel, user, { content });
      gateway.dispatch('MESSAGE_CREATE', { ...message, member: { ...apiMember(user), user: undefined } }, inGuild(channel));
      return message;
    },
    replay(message) {
      const channel = channelOf(message.channel_id);
      const user = state.users.get(message.author.id);
      if (!user || !channel.guildId) throw new Error("fake discord: replay takes a human's guild message");
      gateway.dispatch('MESSAGE_CREATE', { ...message, member: { ...apiMember(user), user: undefined } }, inGuild(channel));
    },
    dm(user, bot, content) {
      const channel = state.dmChannel(user, bot);
      const message = state.createMessage(channel, user, { content });
      gateway.dispatch('MESSAGE_CREATE', { ...message, channel_type: ChannelKind.DM }, (b) => b.id === bot.id);
      return message;
    },
    click(messageId, customId, user) {
      const message = state.messages.get(messageId);
      if (!message) throw new Error(`fake discord: no message ${messageId}`);
      const channel = channelOf(message.channel_id);
      const id = snowflake();
      const interaction: Json = {
        id,
        application_id: message.author.id,
        type: 3,
        token: `interaction-token-${id}`,
        version: 1,
        data: { custom_id: customId, component_type: 2 },
        channel_id: channel.id,
        channel: apiChannel(channel),
        message,
        app_permissions: '137411140374081',
        locale: 'en-US',
        entitlements: [],
        authorizing_integration_owners: { 0: channel.guildId ?? '0' },
        context: channel.guildId ? 0 : 1,
      };
      if (channel.guildId) Object.assign(interaction, { guild_id: channel.guildId, guild_locale: 'en-US', member: { ...apiMember(user), permissions: '137411140374081' } });
      else interaction.user = apiUser(user);
      gateway.dispatch('INTERACTION_CREATE', interaction, (b) => b.id === message.author.id);
      return id;
    },
    rateLimitNext(rule) {
      rest.rateLimits.push({ times: 1, ...rule });
    },
    refuseComponentsNext(times = 1) {
      rest.refuseComponents += times;
    },
    failCreatesAfter(after, times) {
      rest.failCreates = { after, times, status: 503 };
    },
    postsBy: (token) => rest.log.posts.filter((p) => p.bot.token === token),
    postsIn: (channelId) => rest.log.posts.filter((p) => p.channelId === channelId),
    async waitConnected(tokens, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (
        !tokens.every((t) => {
          const b = state.botsByToken.get(t);
          return b && gateway.connected(b);
        })
      ) {
        if (Date.now() > deadline) throw new Error('fake discord: bots did not connect in time');
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        gateway.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}
