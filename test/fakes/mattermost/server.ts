import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hub, type TypingRecord } from './hub.js';
import { Routes, type ActionRecord } from './routes.js';
import { ApiError, World, type ChannelType, type FakeChannel, type FakePost, type FakeUser } from './world.js';
import { readBody, sendJson as sendJsonAs } from '../http-body.js';

/**
 * A fake Mattermost server on 127.0.0.1: REST API v4 and the `/api/v4/websocket` event stream,
 * enough for `@mattermost/client` (Client4, WebSocketClient) and for Pantheon's adapter. Tests
 * build the world (bots, humans, channels), make humans post and click buttons, and read back
 * what the bots posted; they can also make sockets go silent or drop, and make posts fail.
 */
export interface FakeMattermost {
  /** `http://127.0.0.1:<port>`: what `channels.mattermost.url` points at. */
  url: string;
  world: World;
  addBot(username: string, opts?: { firstName?: string }): FakeUser;
  addHuman(username: string, opts?: { firstName?: string }): FakeUser;
  addChannel(name: string, opts?: { type?: ChannelType; members?: string[] }): FakeChannel;
  /** The DM channel between two users (by username). */
  directChannel(a: string, b: string): FakeChannel;
  /** A user posts (as if from their client): stored and delivered to members' sockets. */
  post(input: { user: string; channel: string; message: string; rootId?: string; props?: Record<string, unknown> }): FakePost;
  /** A user clicks an interactive button: the server calls the integration URL as Mattermost does. */
  click(input: { user: string; postId: string; actionId: string }): Promise<ActionRecord>;
  /** Posts in a channel (by name or id), oldest first, as stored (integrations included). */
  postsIn(channel: string): FakePost[];
  /** Posts of one thread (root first). */
  thread(rootId: string): FakePost[];
  /** Every post, oldest first. */
  readonly posts: FakePost[];
  readonly actions: ActionRecord[];
  readonly typing: TypingRecord[];
  /** Every API call: method, path, who. */
  readonly requests: Array<{ method: string; path: string; user?: string; status: number }>;
  /** Live, authenticated sockets (of one user). */
  sockets(username?: string): number;
  /** Makes live sockets deaf (stop events, pongs and replies) without closing them; answers how many. */
  silence(username?: string): number;
  /** Cuts live sockets abruptly. */
  dropSockets(username?: string): number;
  /** The next `count` POST /posts answer `status` (429 carries Retry-After); with `after`, that many are let through first. */
  failNextPosts(count: number, status?: number, after?: number): void;
  username(userId: string): string;
  /** Polls until `fn` returns a value (not undefined/false). */
  waitFor<T>(fn: () => T | undefined | false, timeoutMs?: number, what?: string): Promise<T>;
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'api.context.invalid_body_param.app_error', 'Invalid JSON body.');
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  // Client4 reads JSON only when Content-Type is exactly application/json.
  sendJsonAs(res, status, body, { 'X-Version-Id': '10.5.0.fake', ...headers });
}

export async function startFakeMattermost(): Promise<FakeMattermost> {
  const world = new World();
  const hub = new Hub(world);
  const routes = new Routes(world, hub);
  const requests: FakeMattermost['requests'] = [];
  const failures: number[] = [];

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const entry: FakeMattermost['requests'][number] = { method, path: url.pathname, status: 0 };
    requests.push(entry);
    try {
      const token = /^Bearer\s+(\S+)/i.exec(String(req.headers.authorization ?? ''))?.[1];
      const user = token ? world.userByToken(token) : undefined;
      if (!user) throw new ApiError(401, 'api.context.session_expired.app_error', 'Invalid or expired session, please login again.');
      entry.user = user.username;
      const found = routes.find(method, url.pathname);
      if (!found) throw new ApiError(404, 'api.context.404.app_error', `Sorry, we could not find the page (${method} ${url.pathname}).`);
      const status = method === 'POST' && url.pathname === '/api/v4/posts' ? failures.shift() : undefined;
      if (status) {
        entry.status = status;
        return sendJson(res, status, new ApiError(status, 'api.context.rate_limit', 'Too many requests. Slow down.').body(), status === 429 ? { 'Retry-After': '1', 'X-RateLimit-Reset': '1' } : {});
      }
      const body = await readJson(req);
      const result = await found.route.handler({ user, params: found.params, query: url.searchParams, body });
      entry.status = found.route.status ?? 200;
      sendJson(res, entry.status, result);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(500, 'api.fake.internal', String((err as Error)?.message ?? err));
      entry.status = e.status;
      if (!res.headersSent) sendJson(res, e.status, e.body());
    }
  });
  server.on('upgrade', (req, socket, head) => hub.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const fake: FakeMattermost = {
    url: `http://127.0.0.1:${port}`,
    world,
    addBot: (username, opts) => world.addUser(username, { ...opts, bot: true }),
    addHuman: (username, opts) => world.addUser(username, opts),
    addChannel: (name, opts) => world.addChannel(name, opts),
    directChannel: (a, b) => world.directChannel(world.mustUser(a), world.mustUser(b)),
    post({ user, channel, message, rootId, props }) {
      const author = world.mustUser(user);
      return routes.createPost(author, { channel_id: world.mustChannel(channel).id, message, root_id: rootId, props });
    },
    async click({ user, postId, actionId }) {
      await routes.click(world.mustUser(user), postId, actionId);
      return routes.actions.at(-1)!;
    },
    postsIn: (channel) => world.posts.filter((p) => p.channel_id === world.mustChannel(channel).id),
    thread: (rootId) => world.posts.filter((p) => p.id === rootId || p.root_id === rootId),
    get posts() {
      return world.posts;
    },
    get actions() {
      return routes.actions;
    },
    get typing() {
      return hub.typing;
    },
    requests,
    sockets: (username) => hub.live(username).filter((c) => !c.silent).length,
    silence: (username) => hub.silence(username),
    dropSockets: (username) => hub.drop(username),
    failNextPosts(count, status = 429, after = 0) {
      // 0 lets a post through.
      for (let i = 0; i < after; i++) failures.push(0);
      for (let i = 0; i < count; i++) failures.push(status);
    },
    username: (userId) => world.users.get(userId)?.username ?? '?',
    async waitFor(fn, timeoutMs = 10_000, what = 'condition') {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = fn();
        if (value !== undefined && value !== false) return value as never;
        if (Date.now() > deadline) throw new Error(`fake mattermost: timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async close() {
      hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
