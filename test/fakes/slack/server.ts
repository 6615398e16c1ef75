import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { blockActions, eventCallback, nextEventId, type ButtonClick, type EventCallbackBody, type FakeSlackApp, type SlackEvent } from './payloads.js';
import { postSignedEvent, postSignedInteraction } from './sign.js';
import { SocketModeHub } from './socket.js';
import { readBody, sendJson as sendJsonAs } from '../http-body.js';

/** A message in the fake workspace: posted by an app (`botToken` set) or said by a human. */
export interface FakeSlackMessage {
  ts: string;
  channel: string;
  threadTs?: string;
  text: string;
  blocks?: Array<Record<string, any>>;
  /** Who posted: the app's bot user or the human. */
  user: string;
  /** The app that posted, by its bot token; absent for humans. */
  botToken?: string;
  app?: string;
  /** Texts this message had before each `chat.update`. */
  history: string[];
}

/** One Web API call as the fake answered it. */
export interface FakeSlackCall {
  method: string;
  /** The app whose token made the call (its name), when the token was known. */
  app?: string;
  status: number;
  error?: string;
  at: number;
}

/** How a human action reached the apps. */
export interface Delivery {
  app: string;
  eventId?: string;
  /** Socket Mode: acked by the app. HTTP mode: answered with a 2xx. */
  acked: boolean;
  /** HTTP mode: the status Pantheon answered. */
  status?: number;
}

export interface HttpTarget {
  eventsUrl: string;
  interactionsUrl: string;
  signingSecret: string;
}

export interface FakeSlack {
  url: string;
  /** What `channels.slack.apiUrl` (WebClient's `slackApiUrl`) points at: `${url}/api/`. */
  apiUrl: string;
  teamId: string;
  /** Installs one app (one persona's bot). */
  addApp(name: string): FakeSlackApp;
  addUser(user: { id: string; name: string; realName?: string }): void;
  /** Every message in the workspace, oldest first. */
  readonly messages: FakeSlackMessage[];
  /** Messages posted with this bot token. */
  postsBy(botToken: string): FakeSlackMessage[];
  readonly calls: FakeSlackCall[];
  /** The next `times` calls of `method` answer 429 with `Retry-After: retryAfterSec`. */
  rateLimit(method: string, opts: { retryAfterSec: number; times?: number }): void;
  /** The next `times` chat.postMessage calls with blocks answer `invalid_blocks` (Slack refusing them). */
  refuseBlocksNext(times?: number): void;
  /** After `after` more calls of `method`, the next one answers `{ ok: false, error }` (e.g. `fatal_error`). */
  failAfter(method: string, opts: { after: number; error: string }): void;
  /** The DM channel between an app and a human (what `conversations.open` answers). */
  dmChannel(app: FakeSlackApp, user: string): string;
  /** Restricts who is in a channel (default: every app is in every public channel). */
  setMembers(channel: string, apps: FakeSlackApp[]): void;
  connections(app?: FakeSlackApp): number;
  waitForConnections(count: number, timeoutMs?: number): Promise<void>;
  /**
   * A human posts. Slack's fan-out: every app in the channel gets a `message` event, each app
   * @mentioned (`<@U…>`) also an `app_mention`; in a DM only the app it is with gets `message.im`.
   */
  say(opts: { user: string; channel: string; text: string; threadTs?: string }): Promise<{ ts: string; deliveries: Delivery[] }>;
  /**
   * One event to one app (Socket Mode envelope or signed HTTP POST), e.g. a redelivery with `retryNum`.
   * Socket Mode: an envelope not acked within `ackTimeoutMs` resolves `acked: false` (without it, rejects after 5 s).
   */
  sendEvent(app: FakeSlackApp, event: SlackEvent, opts?: { eventId?: string; retryNum?: number; ackTimeoutMs?: number }): Promise<Delivery>;
  /** A human clicks a button on a message the app posted (`block_actions`). */
  click(app: FakeSlackApp, click: ButtonClick): Promise<Delivery>;
  /** The Events API body Slack would send this app for `event`. */
  eventBody(app: FakeSlackApp, event: SlackEvent, eventId?: string): EventCallbackBody;
  /** Deliver events over signed HTTP POSTs instead of Socket Mode (null: back to sockets). */
  useHttp(target: HttpTarget | null): void;
  close(): Promise<void>;
}

type Json = Record<string, any>;

/**
 * A fake Slack workspace: the Web API methods Pantheon calls, Socket Mode, and a way for tests
 * to act as humans (post, @mention, DM, click). Real `@slack/bolt` and `@slack/web-api` talk to it.
 */
export async function startFakeSlack(opts: { teamId?: string; echoBotMessages?: boolean } = {}): Promise<FakeSlack> {
  const teamId = opts.teamId ?? 'T0PANTHEON';
  const hub = new SocketModeHub();
  const apps: FakeSlackApp[] = [];
  const users = new Map<string, { id: string; name: string; realName?: string }>();
  const messages: FakeSlackMessage[] = [];
  const calls: FakeSlackCall[] = [];
  const limits = new Map<string, { retryAfterSec: number; times: number }>();
  let refuseBlocks = 0;
  const failAfter = new Map<string, { after: number; error: string }>();
  const dmOwners = new Map<string, FakeSlackApp>();
  const members = new Map<string, Set<string>>();
  let http: HttpTarget | null = null;
  let tsCounter = 0;
  const nextTs = () => `${Math.floor(Date.now() / 1000)}.${String(++tsCounter).padStart(6, '0')}`;

  const byBotToken = (token?: string) => apps.find((a) => a.botToken === token);
  const inChannel = (app: FakeSlackApp, channel: string) => (channel.startsWith('D') ? dmOwners.get(channel) === app : (members.get(channel)?.has(app.id) ?? true));

  const methods: Record<string, (body: Json, app: FakeSlackApp | undefined, token?: string) => Json> = {
    'auth.test': (_b, app) =>
      app
        ? { ok: true, url: 'https://pantheon-test.slack.com/', team: 'Pantheon Test', user: app.name, team_id: teamId, user_id: app.botUserId, bot_id: app.botId, is_enterprise_install: false }
        : { ok: false, error: 'invalid_auth' },
    'apps.connections.open': (_b, _app, token) => {
      const app = apps.find((a) => a.appToken === token);
      return app ? { ok: true, url: hub.connectionUrl(wsBase, app.id) } : { ok: false, error: 'invalid_auth' };
    },
    'chat.postMessage': (b, app) => {
      if (!app) return { ok: false, error: 'invalid_auth' };
      if (!b.channel) return { ok: false, error: 'channel_not_found' };
      if (!inChannel(app, b.channel)) return { ok: false, error: b.channel.startsWith('D') ? 'channel_not_found' : 'not_in_channel' };
      const blocks = typeof b.blocks === 'string' ? JSON.parse(b.blocks) : b.blocks;
      if (!b.text && !blocks) return { ok: false, error: 'no_text' };
      if (blocks && refuseBlocks > 0) {
        refuseBlocks--;
        return { ok: false, error: 'invalid_blocks', errors: ['failed to match all allowed schemas [json-pointer:/blocks/0]'] };
      }
      const msg: FakeSlackMessage = {
        ts: nextTs(),
        channel: b.channel,
        threadTs: b.thread_ts || undefined,
        text: b.text ?? '',
        blocks,
        user: app.botUserId,
        botToken: app.botToken,
        app: app.name,
        history: [],
      };
      messages.push(msg);
      if (opts.echoBotMessages !== false) echo(app, msg);
      return { ok: true, channel: msg.channel, ts: msg.ts, message: { type: 'message', text: msg.text, user: app.botUserId, bot_id: app.botId, ts: msg.ts, thread_ts: msg.threadTs } };
    },
    'chat.update': (b, app) => {
      if (!app) return { ok: false, error: 'invalid_auth' };
      const msg = messages.find((m) => m.channel === b.channel && m.ts === b.ts);
      if (!msg) return { ok: false, error: 'message_not_found' };
      if (msg.botToken !== app.botToken) return { ok: false, error: 'cant_update_message' };
      msg.history.push(msg.text);
      msg.text = b.text ?? msg.text;
      if (b.blocks !== undefined) msg.blocks = typeof b.blocks === 'string' ? JSON.parse(b.blocks) : b.blocks;
      return { ok: true, channel: msg.channel, ts: msg.ts, text: msg.text };
    },
    'users.info': (b, app) => {
      if (!app) return { ok: false, error: 'invalid_auth' };
      const human = users.get(b.user);
      const bot = apps.find((a) => a.botUserId === b.user);
      if (human)
        return {
          ok: true,
          user: {
            id: human.id,
            team_id: teamId,
            name: human.name,
            real_name: human.realName ?? human.name,
            is_bot: false,
            profile: { display_name: human.name, real_name: human.realName ?? human.name },
          },
        };
      if (bot)
        return {
          ok: true,
          user: { id: bot.botUserId, team_id: teamId, name: bot.name, real_name: bot.name, is_bot: true, profile: { display_name: bot.name, real_name: bot.name, bot_id: bot.botId } },
        };
      return { ok: false, error: 'user_not_found' };
    },
    'conversations.open': (b, app) => {
      if (!app) return { ok: false, error: 'invalid_auth' };
      const user = String(b.users ?? '').split(',')[0];
      if (!user || !users.has(user)) return { ok: false, error: 'user_not_found' };
      return { ok: true, channel: { id: dmChannel(app, user) } };
    },
  };

  function dmChannel(app: FakeSlackApp, user: string): string {
    const id = `D${app.id.slice(1)}${user.slice(1)}`.toUpperCase();
    dmOwners.set(id, app);
    return id;
  }

  /** Slack tells the other apps in the channel about a bot's post (`message` with `bot_id`). */
  function echo(poster: FakeSlackApp, msg: FakeSlackMessage): void {
    for (const app of apps) {
      if (app === poster || !inChannel(app, msg.channel)) continue;
      const event = {
        type: 'message',
        subtype: 'bot_message',
        bot_id: poster.botId,
        user: poster.botUserId,
        text: msg.text,
        ts: msg.ts,
        thread_ts: msg.threadTs,
        channel: msg.channel,
        channel_type: msg.channel.startsWith('D') ? 'im' : 'channel',
        event_ts: msg.ts,
      };
      void send(app, event).catch(() => {});
    }
  }

  async function send(app: FakeSlackApp, event: SlackEvent, o: { eventId?: string; retryNum?: number; ackTimeoutMs?: number } = {}): Promise<Delivery> {
    const body = eventCallback(teamId, app, event, o.eventId ?? nextEventId());
    if (http) {
      const res = await postSignedEvent(http.eventsUrl, body, { signingSecret: http.signingSecret, retryNum: o.retryNum });
      await res.arrayBuffer();
      return { app: app.name, eventId: body.event_id, acked: res.ok, status: res.status };
    }
    if (hub.connections(app.id) === 0) return { app: app.name, eventId: body.event_id, acked: false };
    if (o.ackTimeoutMs !== undefined) {
      const acked = await hub.deliver(app.id, 'events_api', body, { retryNum: o.retryNum, timeoutMs: o.ackTimeoutMs }).then(
        () => true,
        () => false,
      );
      return { app: app.name, eventId: body.event_id, acked };
    }
    await hub.deliver(app.id, 'events_api', body, { retryNum: o.retryNum });
    return { app: app.name, eventId: body.event_id, acked: true };
  }

  async function handleApi(method: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const type = String(req.headers['content-type'] ?? '');
    let body: Json = {};
    try {
      body = type.includes('json') ? (raw ? JSON.parse(raw) : {}) : Object.fromEntries(new URLSearchParams(raw));
    } catch {
      return sendJson(res, 200, { ok: false, error: 'invalid_json' });
    }
    const token = /^Bearer\s+(\S+)/i.exec(String(req.headers.authorization ?? ''))?.[1] ?? body.token;
    const app = byBotToken(token);
    const appName = app?.name ?? apps.find((a) => a.appToken === token)?.name;
    const limit = limits.get(method);
    if (limit && limit.times > 0) {
      limit.times -= 1;
      calls.push({ method, app: appName, status: 429, error: 'ratelimited', at: Date.now() });
      return sendJson(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(limit.retryAfterSec) });
    }
    const handler = methods[method];
    const injected = failAfter.get(method);
    if (injected && injected.after-- <= 0) failAfter.delete(method);
    const answer = injected && injected.after < 0 ? { ok: false, error: injected.error } : handler ? handler(body, app, token) : { ok: false, error: 'unknown_method' };
    calls.push({ method, app: appName, status: 200, error: answer.ok ? undefined : answer.error, at: Date.now() });
    sendJson(res, 200, answer);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const m = /^\/api\/([a-zA-Z.]+)$/.exec(url.pathname);
    if (req.method === 'POST' && m) return void handleApi(m[1]!, req, res).catch((err) => sendJson(res, 500, { ok: false, error: String(err) }));
    sendJson(res, 404, { ok: false, error: 'not_found' });
  });
  server.on('upgrade', (req, socket, head) => hub.handleUpgrade(req, socket, head));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const wsBase = `ws://127.0.0.1:${port}`;

  return {
    url,
    apiUrl: `${url}/api/`,
    teamId,
    addApp(name) {
      const n = apps.length + 1;
      const tag = name.toUpperCase().replace(/[^A-Z0-9]/g, '');
      const app: FakeSlackApp = {
        id: `A0${tag}${n}`,
        name,
        botToken: `xoxb-${n}000-${name}-bot-token-fake`,
        appToken: `xapp-1-A0${tag}${n}-${name}-app-token-fake`,
        botUserId: `U0BOT${tag}`,
        botId: `B0${tag}`,
      };
      apps.push(app);
      return app;
    },
    addUser(user) {
      users.set(user.id, user);
    },
    messages,
    postsBy: (botToken) => messages.filter((m) => m.botToken === botToken),
    calls,
    rateLimit(method, o) {
      limits.set(method, { retryAfterSec: o.retryAfterSec, times: o.times ?? 1 });
    },
    refuseBlocksNext(times = 1) {
      refuseBlocks += times;
    },
    failAfter(method, o) {
      failAfter.set(method, { ...o });
    },
    dmChannel,
    setMembers(channel, list) {
      members.set(channel, new Set(list.map((a) => a.id)));
    },
    connections: (app) => hub.connections(app?.id),
    async waitForConnections(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (hub.connections() < count) {
        if (Date.now() > deadline) throw new Error(`only ${hub.connections()} of ${count} Socket Mode connections within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async say({ user, channel, text, threadTs }) {
      const ts = nextTs();
      messages.push({ ts, channel, threadTs, text, user, history: [] });
      const base = { user, text, ts, channel, event_ts: ts, team: teamId, client_msg_id: `${ts}-client`, ...(threadTs ? { thread_ts: threadTs } : {}) };
      const deliveries: Delivery[] = [];
      if (channel.startsWith('D')) {
        const owner = dmOwners.get(channel);
        if (!owner) throw new Error(`no app owns DM channel ${channel}; make it with dmChannel(app, user)`);
        deliveries.push(await send(owner, { type: 'message', channel_type: 'im', ...base }));
        return { ts, deliveries };
      }
      const mentioned = new Set([...text.matchAll(/<@(U[A-Z0-9]+)(?:\|[^>]*)?>/g)].map((x) => x[1]));
      for (const app of apps.filter((a) => inChannel(a, channel))) {
        deliveries.push(await send(app, { type: 'message', channel_type: 'channel', ...base }));
        if (mentioned.has(app.botUserId)) deliveries.push(await send(app, { type: 'app_mention', ...base }));
      }
      return { ts, deliveries };
    },
    sendEvent: (app, event, o) => send(app, event, o),
    async click(app, c) {
      const payload = blockActions(teamId, app, c);
      if (http) {
        const res = await postSignedInteraction(http.interactionsUrl, payload, { signingSecret: http.signingSecret });
        await res.arrayBuffer();
        return { app: app.name, acked: res.ok, status: res.status };
      }
      await hub.deliver(app.id, 'interactive', payload);
      return { app: app.name, acked: true };
    },
    eventBody: (app, event, eventId) => eventCallback(teamId, app, event, eventId),
    useHttp(target) {
      http = target;
    },
    async close() {
      hub.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendJsonAs(res, status, body, { 'content-type': 'application/json; charset=utf-8', ...headers });
}
