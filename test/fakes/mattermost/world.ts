import { randomBytes } from 'node:crypto';

/**
 * What the fake Mattermost server knows: users (humans and bots, each with a token), one team,
 * channels with their members, and posts. Pure data and rules; server.ts and hub.ts put it on
 * the wire. Shapes follow Mattermost's API v4 JSON (snake_case, millisecond timestamps).
 */

export interface FakeUser {
  id: string;
  username: string;
  is_bot: boolean;
  first_name: string;
  last_name: string;
  nickname: string;
  roles: string;
  create_at: number;
  update_at: number;
  delete_at: number;
  /** Personal access token (bots) or session token (humans). Never sent back by the API. */
  token: string;
}

export type ChannelType = 'O' | 'P' | 'D' | 'G';

export interface FakeChannel {
  id: string;
  name: string;
  display_name: string;
  type: ChannelType;
  team_id: string;
  create_at: number;
  update_at: number;
  delete_at: number;
  members: Set<string>;
}

export interface FakePost {
  id: string;
  create_at: number;
  update_at: number;
  edit_at: number;
  delete_at: number;
  is_pinned: boolean;
  user_id: string;
  channel_id: string;
  root_id: string;
  original_id: string;
  message: string;
  type: string;
  props: Record<string, unknown>;
  hashtags: string;
  pending_post_id: string;
  reply_count: number;
  metadata: Record<string, unknown>;
}

/** An API error in Mattermost's shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly id: string,
    message: string,
  ) {
    super(message);
  }
  body() {
    return { id: this.id, message: this.message, detailed_error: '', request_id: newId(), status_code: this.status };
  }
}

/** Mattermost ids: 26 characters of [a-z0-9]. */
export function newId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(26);
  let id = '';
  for (const b of bytes) id += alphabet[b % alphabet.length];
  return id;
}

export const MAX_MESSAGE_RUNES = 16383;

export class World {
  readonly team = { id: newId(), name: 'pantheon', display_name: 'Pantheon', type: 'O', create_at: Date.now(), update_at: Date.now(), delete_at: 0 };
  readonly users = new Map<string, FakeUser>();
  readonly channels = new Map<string, FakeChannel>();
  readonly posts: FakePost[] = [];
  private lastTimestamp = 0;

  /** Strictly increasing server time, so ordering by create_at is total. */
  now(): number {
    this.lastTimestamp = Math.max(Date.now(), this.lastTimestamp + 1);
    return this.lastTimestamp;
  }

  addUser(username: string, opts: { bot?: boolean; firstName?: string } = {}): FakeUser {
    if (this.userByName(username)) throw new Error(`user ${username} exists`);
    const at = this.now();
    const user: FakeUser = {
      id: newId(),
      username,
      is_bot: !!opts.bot,
      first_name: opts.firstName ?? '',
      last_name: '',
      nickname: '',
      roles: 'system_user',
      create_at: at,
      update_at: at,
      delete_at: 0,
      token: newId(),
    };
    this.users.set(user.id, user);
    return user;
  }

  userByName(username: string): FakeUser | undefined {
    return [...this.users.values()].find((u) => u.username === username);
  }

  userByToken(token: string): FakeUser | undefined {
    return [...this.users.values()].find((u) => u.token === token);
  }

  addChannel(name: string, opts: { type?: ChannelType; members?: string[]; displayName?: string } = {}): FakeChannel {
    const at = this.now();
    const channel: FakeChannel = {
      id: newId(),
      name,
      display_name: opts.displayName ?? name,
      type: opts.type ?? 'O',
      team_id: this.team.id,
      create_at: at,
      update_at: at,
      delete_at: 0,
      members: new Set(),
    };
    for (const username of opts.members ?? []) channel.members.add(this.mustUser(username).id);
    this.channels.set(channel.id, channel);
    return channel;
  }

  /** The DM channel between two users, created on first use (name: the two ids, sorted, joined by `__`). */
  directChannel(a: FakeUser, b: FakeUser): FakeChannel {
    const name = [a.id, b.id].sort().join('__');
    const existing = [...this.channels.values()].find((c) => c.type === 'D' && c.name === name);
    if (existing) return existing;
    const at = this.now();
    const channel: FakeChannel = { id: newId(), name, display_name: '', type: 'D', team_id: '', create_at: at, update_at: at, delete_at: 0, members: new Set([a.id, b.id]) };
    this.channels.set(channel.id, channel);
    return channel;
  }

  channelByName(name: string): FakeChannel | undefined {
    return [...this.channels.values()].find((c) => c.name === name);
  }

  /** A channel by id or name. */
  mustChannel(ref: string): FakeChannel {
    const c = this.channels.get(ref) ?? this.channelByName(ref);
    if (!c) throw new ApiError(404, 'app.channel.get.existing.app_error', `Unable to find the existing channel ${ref}.`);
    return c;
  }

  mustUser(ref: string): FakeUser {
    const u = this.users.get(ref) ?? this.userByName(ref);
    if (!u) throw new ApiError(404, 'app.user.missing_account.const', `Unable to find the user ${ref}.`);
    return u;
  }

  mustPost(id: string): FakePost {
    const p = this.posts.find((x) => x.id === id && x.delete_at === 0);
    if (!p) throw new ApiError(404, 'app.post.get.app_error', 'Unable to get the post.');
    return p;
  }

  /** Creates a post as `user` with Mattermost's checks: membership, a valid root, the length limit, pending_post_id dedupe. */
  createPost(user: FakeUser, input: { channel_id: string; message?: string; root_id?: string; props?: Record<string, unknown>; pending_post_id?: string }): { post: FakePost; created: boolean } {
    const channel = this.mustChannel(input.channel_id);
    if (!channel.members.has(user.id)) throw new ApiError(403, 'api.context.permissions.app_error', 'You do not have the appropriate permissions.');
    const message = input.message ?? '';
    if ([...message].length > MAX_MESSAGE_RUNES) throw new ApiError(400, 'model.post.is_valid.message_length.app_error', `Invalid Message property length (max ${MAX_MESSAGE_RUNES}).`);
    if (input.root_id) {
      const root = this.posts.find((p) => p.id === input.root_id);
      if (!root || root.channel_id !== channel.id || root.root_id) throw new ApiError(400, 'api.post.create_post.root_id.app_error', 'Invalid RootId parameter.');
    }
    if (input.pending_post_id) {
      // Mattermost remembers pending post ids for 30 seconds and answers a repeat with the first post.
      const again = this.posts.find((p) => p.pending_post_id === input.pending_post_id && p.user_id === user.id && Date.now() - p.create_at < 30_000);
      if (again) return { post: again, created: false };
    }
    const at = this.now();
    const post: FakePost = {
      id: newId(),
      create_at: at,
      update_at: at,
      edit_at: 0,
      delete_at: 0,
      is_pinned: false,
      user_id: user.id,
      channel_id: channel.id,
      root_id: input.root_id ?? '',
      original_id: '',
      message,
      type: '',
      props: { ...(input.props ?? {}), ...(user.is_bot ? { from_bot: 'true' } : {}) },
      hashtags: '',
      pending_post_id: input.pending_post_id ?? '',
      reply_count: 0,
      metadata: {},
    };
    this.posts.push(post);
    if (post.root_id) this.mustPost(post.root_id).reply_count++;
    channel.update_at = at;
    return { post, created: true };
  }

  /** Changes a post's message and/or props (its author only), as PUT /posts/{id}/patch does. */
  patchPost(user: FakeUser | null, id: string, patch: { message?: string; props?: Record<string, unknown> }): FakePost {
    const post = this.mustPost(id);
    if (user && post.user_id !== user.id) throw new ApiError(403, 'api.context.permissions.app_error', 'You do not have the appropriate permissions.');
    if (patch.message !== undefined) {
      if ([...patch.message].length > MAX_MESSAGE_RUNES) throw new ApiError(400, 'model.post.is_valid.message_length.app_error', 'Invalid Message property length.');
      post.message = patch.message;
    }
    if (patch.props !== undefined) post.props = { ...patch.props, ...(post.props.from_bot ? { from_bot: 'true' } : {}) };
    post.edit_at = post.update_at = this.now();
    return post;
  }

  /** Channels `user` belongs to. */
  channelsOf(user: FakeUser): FakeChannel[] {
    return [...this.channels.values()].filter((c) => c.members.has(user.id));
  }
}

/** A user as the API shows it (no token). */
export function publicUser(u: FakeUser) {
  const { token: _token, ...rest } = u;
  return { ...rest, email: `${u.username}@example.test`, locale: 'en', timezone: {}, bot_description: u.is_bot ? `${u.username} bot` : undefined };
}

export function publicChannel(c: FakeChannel) {
  const { members: _members, ...rest } = c;
  return { ...rest, header: '', purpose: '', last_post_at: c.update_at, total_msg_count: 0, creator_id: '' };
}

/**
 * A post as clients see it. Mattermost strips interactive actions' integration (URL and
 * context) from posts it sends to clients, so the context is a secret between the server
 * and the integration; the fake does the same.
 */
export function publicPost(p: FakePost): FakePost {
  const attachments = p.props.attachments as Array<{ actions?: Array<Record<string, unknown>> }> | undefined;
  if (!Array.isArray(attachments)) return { ...p, props: { ...p.props } };
  const stripped = attachments.map((a) => ({ ...a, actions: a.actions?.map(({ integration: _integration, ...action }) => action) }));
  return { ...p, props: { ...p.props, attachments: stripped } };
}
