/**
 * What the fake Discord knows: users (humans and bots), guilds, channels (text channels, threads,
 * DMs) and messages, shaped like Discord API v10 objects so the real discord.js can read them.
 * Every bot is a member of every guild, as a team's bots are once invited.
 */

export type Json = Record<string, any>;

/** Discord channel types the fake uses. */
export const ChannelKind = { GuildText: 0, DM: 1, PublicThread: 11 } as const;

export interface FakeUser {
  id: string;
  username: string;
  bot: boolean;
}

export interface FakeBot extends FakeUser {
  token: string;
}

export interface FakeChannel {
  id: string;
  type: number;
  name?: string;
  guildId?: string;
  /** Threads: the text channel they hang off. */
  parentId?: string;
  /** DMs: the human and the bot. */
  recipients?: [FakeUser, FakeBot];
}

export interface FakeGuild {
  id: string;
  name: string;
  ownerId: string;
}

const DISCORD_EPOCH = 1420070400000n;
let sequence = 0n;

/** A snowflake: milliseconds since Discord's epoch, shifted, plus a counter. */
export function snowflake(): string {
  sequence = (sequence + 1n) & 0xfffn;
  return String(((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | (1n << 17n) | sequence);
}

export function apiUser(u: FakeUser): Json {
  return { id: u.id, username: u.username, global_name: u.bot ? null : u.username, discriminator: '0', avatar: null, bot: u.bot, system: false, public_flags: 0, flags: 0 };
}

export function apiChannel(c: FakeChannel): Json {
  if (c.type === ChannelKind.DM) {
    return { id: c.id, type: c.type, last_message_id: null, flags: 0, recipients: c.recipients!.map(apiUser) };
  }
  const base = { id: c.id, type: c.type, guild_id: c.guildId, name: c.name, position: 0, permission_overwrites: [], nsfw: false, flags: 0, last_message_id: null, rate_limit_per_user: 0 };
  if (c.type === ChannelKind.PublicThread) {
    return {
      ...base,
      parent_id: c.parentId,
      owner_id: undefined,
      message_count: 0,
      member_count: 1,
      total_message_sent: 0,
      thread_metadata: { archived: false, auto_archive_duration: 1440, archive_timestamp: new Date().toISOString(), locked: false, create_timestamp: new Date().toISOString() },
    };
  }
  return { ...base, topic: null, parent_id: null };
}

export function apiMember(u: FakeUser): Json {
  return { user: apiUser(u), roles: [], joined_at: new Date(0).toISOString(), deaf: false, mute: false, flags: 0, nick: null, avatar: null, premium_since: null, pending: false };
}

/** The in-memory world behind the fake's REST API and gateway. */
export class FakeDiscordState {
  readonly users = new Map<string, FakeUser>();
  readonly botsByToken = new Map<string, FakeBot>();
  readonly guilds = new Map<string, FakeGuild>();
  readonly channels = new Map<string, FakeChannel>();
  readonly messages = new Map<string, Json>();

  addBot(token: string, username: string): FakeBot {
    const existing = this.botsByToken.get(token);
    if (existing) return existing;
    const bot: FakeBot = { id: snowflake(), username, bot: true, token };
    this.botsByToken.set(token, bot);
    this.users.set(bot.id, bot);
    return bot;
  }

  addHuman(username: string): FakeUser {
    const user: FakeUser = { id: snowflake(), username, bot: false };
    this.users.set(user.id, user);
    return user;
  }

  bots(): FakeBot[] {
    return [...this.botsByToken.values()];
  }

  /** The DM channel between a human and a bot, created on first use (as Discord does). */
  dmChannel(human: FakeUser, bot: FakeBot): FakeChannel {
    for (const c of this.channels.values()) {
      if (c.type === ChannelKind.DM && c.recipients![0].id === human.id && c.recipients![1].id === bot.id) return c;
    }
    const channel: FakeChannel = { id: snowflake(), type: ChannelKind.DM, recipients: [human, bot] };
    this.channels.set(channel.id, channel);
    return channel;
  }

  /** A bot sees guild channels and its own DMs, nothing else. */
  canSee(bot: FakeBot, channel: FakeChannel): boolean {
    return channel.type !== ChannelKind.DM || channel.recipients![1].id === bot.id;
  }

  apiGuild(g: FakeGuild): Json {
    const channels = [...this.channels.values()].filter((c) => c.guildId === g.id);
    const members = [...this.users.values()].map(apiMember);
    return {
      id: g.id,
      name: g.name,
      icon: null,
      splash: null,
      discovery_splash: null,
      owner_id: g.ownerId,
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      system_channel_id: null,
      system_channel_flags: 0,
      rules_channel_id: null,
      public_updates_channel_id: null,
      preferred_locale: 'en-US',
      features: [],
      premium_tier: 0,
      nsfw_level: 0,
      premium_progress_bar_enabled: false,
      roles: [{ id: g.id, name: '@everyone', color: 0, hoist: false, position: 0, permissions: '137411140374081', managed: false, mentionable: false, flags: 0 }],
      emojis: [],
      stickers: [],
      joined_at: new Date(0).toISOString(),
      large: false,
      unavailable: false,
      member_count: members.length,
      voice_states: [],
      members,
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
      channels: channels.filter((c) => c.type !== ChannelKind.PublicThread).map(apiChannel),
      threads: channels.filter((c) => c.type === ChannelKind.PublicThread).map(apiChannel),
    };
  }

  /** A message object as Discord returns and dispatches it. */
  createMessage(channel: FakeChannel, author: FakeUser, body: Json): Json {
    const mentions = [...String(body.content ?? '').matchAll(/<@!?(\d+)>/g)]
      .map((m) => this.users.get(m[1]!))
      .filter((u): u is FakeUser => !!u)
      .map(apiUser);
    const message: Json = {
      id: snowflake(),
      channel_id: channel.id,
      author: apiUser(author),
      content: String(body.content ?? ''),
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions,
      mention_roles: [],
      attachments: [],
      embeds: body.embeds ?? [],
      pinned: false,
      type: 0,
      flags: 0,
      components: body.components ?? [],
    };
    if (body.nonce !== undefined) message.nonce = body.nonce;
    if (body.message_reference) message.message_reference = { type: 0, channel_id: channel.id, ...body.message_reference };
    if (channel.guildId) message.guild_id = channel.guildId;
    this.messages.set(message.id, message);
    return message;
  }
}
