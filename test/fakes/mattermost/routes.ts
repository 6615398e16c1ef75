import type { Hub } from './hub.js';
import { ApiError, newId, publicChannel, publicPost, publicUser, type FakeChannel, type FakePost, type FakeUser, type World } from './world.js';

/**
 * The REST part of the fake (API v4): just the calls a bot and an interactive-message click
 * make. Every route needs `Authorization: Bearer <token>`; answers are Mattermost's JSON.
 */

export interface RouteContext {
  user: FakeUser;
  params: string[];
  query: URLSearchParams;
  body: any;
}

/** What an action click produced: the integration's answer as Mattermost relayed it. */
export interface ActionRecord {
  postId: string;
  actionId: string;
  userId: string;
  username: string;
  url: string;
  request: Record<string, unknown>;
  status: number;
  response: Record<string, unknown> | null;
  ephemeralText?: string;
  ms: number;
}

type Handler = (ctx: RouteContext) => unknown | Promise<unknown>;
interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
  status?: number;
}

export class Routes {
  readonly actions: ActionRecord[] = [];
  readonly ephemerals: Array<{ userId: string; channelId: string; message: string }> = [];
  private readonly table: Route[];

  constructor(
    private readonly world: World,
    private readonly hub: Hub,
  ) {
    const r = (method: string, path: string, handler: Handler, status?: number): Route => ({
      method,
      pattern: new RegExp(`^/api/v4${path.replace(/:id/g, '([A-Za-z0-9_.\\-]+)')}$`),
      handler,
      status,
    });
    this.table = [
      r('GET', '/system/ping', () => ({ status: 'OK' })),
      r('GET', '/users/me', ({ user }) => publicUser(user)),
      r('GET', '/users/username/:id', ({ params }) => publicUser(world.mustUser(params[0]!))),
      r('GET', '/users/me/teams', () => [world.team]),
      r('GET', '/users/me/channels', ({ user }) => world.channelsOf(user).map(publicChannel)),
      r('GET', '/users/me/teams/:id/channels', ({ user, params }) =>
        world
          .channelsOf(user)
          .filter((c) => c.team_id === params[0] || c.team_id === '')
          .map(publicChannel),
      ),
      r('GET', '/users/:id', ({ params }) => publicUser(world.mustUser(params[0]!))),
      r('GET', '/teams/:id/channels/name/:id', ({ params }) => publicChannel(world.mustChannel(params[1]!))),
      r('GET', '/channels/:id', ({ params }) => publicChannel(world.mustChannel(params[0]!))),
      r(
        'POST',
        '/channels/direct',
        ({ body }) => {
          const [a, b] = (body as string[]).map((id) => world.mustUser(id));
          return publicChannel(world.directChannel(a!, b!));
        },
        201,
      ),
      r('POST', '/channels/:id/members', ({ user, params, body }) => this.join(user, world.mustChannel(params[0]!), String(body?.user_id ?? '')), 201),
      r('GET', '/channels/:id/posts', ({ user, params, query }) => this.channelPosts(user, world.mustChannel(params[0]!), query)),
      r('POST', '/posts', ({ user, body }) => this.createPost(user, body), 201),
      r('GET', '/posts/:id', ({ params }) => publicPost(world.mustPost(params[0]!))),
      r('PUT', '/posts/:id/patch', ({ user, params, body }) => this.edit(user, params[0]!, { message: body?.message, props: body?.props })),
      r('PUT', '/posts/:id', ({ user, params, body }) => this.edit(user, params[0]!, { message: body?.message, props: body?.props })),
      r('POST', '/posts/:id/actions/:id', ({ user, params }) => this.click(user, params[0]!, params[1]!)),
    ];
  }

  find(method: string, path: string): { route: Route; params: string[] } | undefined {
    for (const route of this.table) {
      if (route.method !== method) continue;
      const m = route.pattern.exec(path);
      if (m) return { route, params: m.slice(1).map(decodeURIComponent) };
    }
    return undefined;
  }

  /** Creates a post and tells every member's socket (`posted`), as the server does. */
  createPost(user: FakeUser, body: { channel_id?: string; message?: string; root_id?: string; props?: Record<string, unknown>; pending_post_id?: string }): FakePost {
    if (!body?.channel_id) throw new ApiError(400, 'api.context.invalid_body_param.app_error', 'Invalid or missing channel_id in request body.');
    const { post, created } = this.world.createPost(user, { ...body, channel_id: body.channel_id });
    if (created) this.announce(post, user);
    return publicPost(post);
  }

  announce(post: FakePost, sender: FakeUser): void {
    const channel = this.world.mustChannel(post.channel_id);
    this.hub.broadcast(channel, 'posted', {
      channel_display_name: channel.display_name,
      channel_name: channel.name,
      channel_type: channel.type,
      post: JSON.stringify(publicPost(post)),
      sender_name: `@${sender.username}`,
      team_id: channel.team_id,
      set_online: true,
    });
  }

  private edit(user: FakeUser, id: string, patch: { message?: string; props?: Record<string, unknown> }) {
    const post = this.world.patchPost(user, id, patch);
    this.hub.broadcast(this.world.mustChannel(post.channel_id), 'post_edited', { post: JSON.stringify(publicPost(post)) });
    return publicPost(post);
  }

  private join(user: FakeUser, channel: FakeChannel, userId: string) {
    if (userId !== user.id || channel.type !== 'O') throw new ApiError(403, 'api.context.permissions.app_error', 'You do not have the appropriate permissions.');
    channel.members.add(user.id);
    return { channel_id: channel.id, user_id: user.id, roles: 'channel_user' };
  }

  /** `since` (posts created or changed after a time), `after` (posts after a post), or the latest page. */
  private channelPosts(user: FakeUser, channel: FakeChannel, query: URLSearchParams) {
    if (!channel.members.has(user.id) && channel.type !== 'O') throw new ApiError(403, 'api.context.permissions.app_error', 'You do not have the appropriate permissions.');
    let posts = this.world.posts.filter((p) => p.channel_id === channel.id && p.delete_at === 0);
    const since = query.get('since');
    const after = query.get('after');
    if (since !== null) posts = posts.filter((p) => p.update_at > Number(since) || p.create_at > Number(since));
    else if (after) {
      const anchor = this.world.mustPost(after);
      posts = posts.filter((p) => p.create_at > anchor.create_at).slice(0, Number(query.get('per_page') ?? 60));
    } else posts = posts.slice(-Number(query.get('per_page') ?? 60));
    const newestFirst = [...posts].sort((a, b) => b.create_at - a.create_at);
    return {
      order: newestFirst.map((p) => p.id),
      posts: Object.fromEntries(newestFirst.map((p) => [p.id, publicPost(p)])),
      next_post_id: '',
      prev_post_id: '',
      first_inaccessible_post_time: 0,
    };
  }

  /**
   * An interactive message button: Mattermost POSTs the integration URL stored with the action
   * with who clicked and the action's context, then relays the answer (an ephemeral text to the
   * clicker, an update of the post).
   */
  async click(user: FakeUser, postId: string, actionId: string): Promise<{ status: string; trigger_id: string }> {
    const post = this.world.mustPost(postId);
    const channel = this.world.mustChannel(post.channel_id);
    const attachments = (post.props.attachments ?? []) as Array<{ actions?: Array<{ id?: string; integration?: { url?: string; context?: Record<string, unknown> } }> }>;
    const action = attachments.flatMap((a) => a.actions ?? []).find((a) => a.id === actionId);
    if (!action?.integration?.url) throw new ApiError(404, 'api.post.do_action.action_id.app_error', 'Invalid action id.');
    const request = {
      user_id: user.id,
      user_name: user.username,
      channel_id: channel.id,
      channel_name: channel.name,
      team_id: channel.team_id,
      team_domain: this.world.team.name,
      post_id: post.id,
      trigger_id: newId(),
      type: '',
      data_source: '',
      context: action.integration.context ?? {},
    };
    const started = Date.now();
    const res = await fetch(action.integration.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request), signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    let response: Record<string, any> | null = null;
    try {
      response = text ? JSON.parse(text) : null;
    } catch {
      response = null;
    }
    const record: ActionRecord = { postId, actionId, userId: user.id, username: user.username, url: action.integration.url, request, status: res.status, response, ms: Date.now() - started };
    this.actions.push(record);
    if (!res.ok) throw new ApiError(400, 'api.post.do_action.action_integration.app_error', `Action integration error: status ${res.status}.`);
    if (response?.update) {
      const updated = this.world.patchPost(null, post.id, { message: response.update.message, props: response.update.props });
      this.hub.broadcast(channel, 'post_edited', { post: JSON.stringify(publicPost(updated)) });
    }
    if (typeof response?.ephemeral_text === 'string' && response.ephemeral_text) {
      record.ephemeralText = response.ephemeral_text;
      this.ephemerals.push({ userId: user.id, channelId: channel.id, message: response.ephemeral_text });
      this.hub.toUser(user.id, 'ephemeral_message', { post: JSON.stringify({ id: newId(), channel_id: channel.id, root_id: post.root_id || post.id, message: response.ephemeral_text, user_id: '' }) });
    }
    return { status: 'OK', trigger_id: request.trigger_id };
  }
}
