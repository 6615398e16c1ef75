import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeGateway } from './gateway.js';
import { apiChannel, apiUser, ChannelKind, type FakeBot, type FakeDiscordState, type Json } from './state.js';
import { readBody } from '../http-body.js';

/** A message a bot posted or edited, as the fake recorded it. */
export interface RecordedPost {
  bot: FakeBot;
  kind: 'create' | 'edit';
  channelId: string;
  messageId: string;
  content: string;
  components: Json[];
  /** The JSON body as sent. */
  body: Json;
  at: number;
}

/** A rule that answers the next matching message create with 429. */
export interface RateLimitRule {
  token?: string;
  retryAfterMs: number;
  times: number;
  global?: boolean;
}

/** Everything the REST side records, for assertions. */
export interface RestLog {
  posts: RecordedPost[];
  typing: Array<{ bot: FakeBot; channelId: string; at: number }>;
  interactionCallbacks: Array<{ interactionId: string; type: number; at: number }>;
  rateLimited: Array<{ bot: FakeBot; path: string; at: number }>;
  requests: Array<{ method: string; path: string; status: number; at: number }>;
}

async function readJson(req: IncomingMessage): Promise<Json> {
  const raw = await readBody(req);
  return raw ? JSON.parse(raw) : {};
}

function error(status: number, code: number, message: string): { status: number; body: Json } {
  return { status, body: { message, code } };
}

/**
 * Discord REST API v10 under `/api/v10`, the parts a team of bots uses: gateway discovery,
 * `users/@me`, messages (create with nonce dedupe, edit), typing, DMs, channel lookup and
 * interaction callbacks. Message creates can be made to answer 429 with Discord's headers.
 */
export class FakeRest {
  readonly log: RestLog = { posts: [], typing: [], interactionCallbacks: [], rateLimited: [], requests: [] };
  readonly rateLimits: RateLimitRule[] = [];
  /** Message creates with components still to refuse (400, as Discord answers a component it will not draw). */
  refuseComponents = 0;
  /** Message creates to let through, then to answer with `status`, `times` times. */
  failCreates: { after: number; times: number; status: number } | undefined;
  /** nonce → message id, per channel, for `enforce_nonce`. */
  private readonly nonces = new Map<string, string>();

  constructor(
    private readonly state: FakeDiscordState,
    private readonly gateway: FakeGateway,
    private readonly gatewayUrl: () => string,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname.replace(/^\/api\/v\d+/, '');
    let answer: { status: number; body?: Json; headers?: Record<string, string> };
    try {
      answer = await this.route(req.method ?? 'GET', path, url, req);
    } catch (err) {
      answer = error(400, 50035, `Invalid Form Body: ${(err as Error).message}`);
    }
    this.log.requests.push({ method: req.method ?? 'GET', path, status: answer.status, at: Date.now() });
    if (answer.body === undefined) {
      res.writeHead(answer.status, answer.headers ?? {});
      return void res.end();
    }
    const text = JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(answer.headers ?? {}) });
    res.end(text);
  }

  private bot(req: IncomingMessage): FakeBot | undefined {
    const m = /^Bot\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
    return m ? this.state.botsByToken.get(m[1]!) : undefined;
  }

  private async route(method: string, path: string, url: URL, req: IncomingMessage): Promise<{ status: number; body?: Json; headers?: Record<string, string> }> {
    // Interaction callbacks are authenticated by the interaction token in the path, not a bot token.
    let m = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path);
    if (m && method === 'POST') {
      const body = await readJson(req);
      this.log.interactionCallbacks.push({ interactionId: m[1]!, type: Number(body.type), at: Date.now() });
      if (url.searchParams.get('with_response') === 'true') return { status: 200, body: { interaction: { id: m[1], type: 3 } } };
      return { status: 204 };
    }
    const bot = this.bot(req);
    if (!bot) return error(401, 0, '401: Unauthorized');

    if (path === '/gateway/bot' && method === 'GET') {
      return { status: 200, body: { url: this.gatewayUrl(), shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 } } };
    }
    if (path === '/users/@me' && method === 'GET') return { status: 200, body: apiUser(bot) };
    if (path === '/users/@me/channels' && method === 'POST') {
      const body = await readJson(req);
      const human = this.state.users.get(String(body.recipient_id));
      if (!human) return error(400, 50033, 'Invalid Recipient(s)');
      return { status: 200, body: apiChannel(this.state.dmChannel(human, bot)) };
    }
    m = /^\/channels\/(\d+)(\/.*)?$/.exec(path);
    if (!m) return error(404, 0, '404: Not Found');
    const channel = this.state.channels.get(m[1]!);
    if (!channel) return error(404, 10003, 'Unknown Channel');
    if (!this.state.canSee(bot, channel)) return error(403, 50001, 'Missing Access');
    const rest = m[2] ?? '';

    if (rest === '' && method === 'GET') return { status: 200, body: apiChannel(channel) };
    if (rest === '/typing' && method === 'POST') {
      this.log.typing.push({ bot, channelId: channel.id, at: Date.now() });
      return { status: 204 };
    }
    if (rest === '/messages' && method === 'POST') {
      const limited = this.takeRateLimit(bot, path);
      if (limited) return limited;
      const body = await readJson(req);
      if (typeof body.content === 'string' && body.content.length > 2000) return error(400, 50035, 'Invalid Form Body: content must be 2000 or fewer in length.');
      const failing = this.failCreates;
      if (failing && failing.after-- <= 0) {
        if (--failing.times <= 0) this.failCreates = undefined;
        return error(failing.status, 0, `${failing.status}: the fake's injected failure`);
      }
      if (Array.isArray(body.components) && body.components.length && this.refuseComponents > 0) {
        this.refuseComponents--;
        return error(400, 50035, 'Invalid Form Body: components[0].components[0].custom_id: Invalid custom id');
      }
      const nonceKey = body.nonce !== undefined ? `${channel.id}:${body.nonce}` : undefined;
      if (nonceKey && body.enforce_nonce && this.nonces.has(nonceKey)) {
        return { status: 200, body: this.state.messages.get(this.nonces.get(nonceKey)!)! };
      }
      const message = this.state.createMessage(channel, bot, body);
      if (nonceKey) this.nonces.set(nonceKey, message.id);
      this.log.posts.push({ bot, kind: 'create', channelId: channel.id, messageId: message.id, content: message.content, components: message.components, body, at: Date.now() });
      this.gateway.dispatch('MESSAGE_CREATE', { ...message, ...(channel.type === ChannelKind.DM ? { channel_type: ChannelKind.DM } : {}) }, (b) => this.state.canSee(b, channel));
      return { status: 200, body: message };
    }
    const mm = /^\/messages\/(\d+)$/.exec(rest);
    if (mm) {
      const message = this.state.messages.get(mm[1]!);
      if (!message || message.channel_id !== channel.id) return error(404, 10008, 'Unknown Message');
      if (method === 'GET') return { status: 200, body: message };
      if (method === 'PATCH') {
        if (message.author.id !== bot.id) return error(403, 50005, 'Cannot edit a message authored by another user');
        const body = await readJson(req);
        if (typeof body.content === 'string') message.content = body.content;
        if (Array.isArray(body.components)) message.components = body.components;
        message.edited_timestamp = new Date().toISOString();
        this.log.posts.push({ bot, kind: 'edit', channelId: channel.id, messageId: message.id, content: message.content, components: message.components, body, at: Date.now() });
        this.gateway.dispatch('MESSAGE_UPDATE', message, (b) => this.state.canSee(b, channel));
        return { status: 200, body: message };
      }
    }
    return error(404, 0, '404: Not Found');
  }

  /** Discord's 429: `Retry-After` in seconds, bucket headers, `retry_after` in the body. */
  private takeRateLimit(bot: FakeBot, path: string): { status: number; body: Json; headers: Record<string, string> } | undefined {
    const rule = this.rateLimits.find((r) => r.times > 0 && (!r.token || r.token === bot.token));
    if (!rule) return undefined;
    rule.times--;
    this.log.rateLimited.push({ bot, path, at: Date.now() });
    const seconds = rule.retryAfterMs / 1000;
    const headers: Record<string, string> = {
      'retry-after': String(Math.ceil(seconds)),
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset-after': seconds.toFixed(3),
      'x-ratelimit-reset': ((Date.now() + rule.retryAfterMs) / 1000).toFixed(3),
      'x-ratelimit-bucket': 'fake-messages-bucket',
      'x-ratelimit-scope': rule.global ? 'global' : 'user',
    };
    if (rule.global) headers['x-ratelimit-global'] = 'true';
    return { status: 429, headers, body: { message: 'You are being rate limited.', retry_after: seconds, global: !!rule.global, code: rule.global ? 0 : 20028 } };
  }
}
