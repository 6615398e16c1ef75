import WebSocket from 'ws';
import type { Logger } from '../../core/log.js';

/** One event of Mattermost's WebSocket stream (`posted`, `hello`, `typing`, ...). */
export interface MattermostEvent {
  event: string;
  data: Record<string, unknown>;
  broadcast?: { channel_id?: string; user_id?: string; team_id?: string };
  seq: number;
}

export interface BotSocketOptions {
  /** `ws(s)://…/api/v4/websocket` */
  url: string;
  token: string;
  /** Who this socket belongs to, for logs (a persona id). */
  name: string;
  pingIntervalMs: number;
  logger: Logger;
  onEvent(event: MattermostEvent): void;
  /** After each `hello`: `reconnect` is false the first time. Posts sent while down are for the caller to catch up. */
  onReady(reconnect: boolean): void;
}

const MAX_BACKOFF_MS = 60_000;

/**
 * One bot's WebSocket to Mattermost, kept alive. A socket can die without closing (a proxy or
 * NAT forgets it): it then delivers nothing, forever. So every `pingIntervalMs` the socket is
 * pinged twice over (Mattermost's `ping` action and a WebSocket ping frame), and a socket that
 * has said nothing for two intervals is deaf: the watchdog cuts it and reconnects, with
 * exponential backoff and jitter. A gap in the event sequence counts as deaf too. Each new
 * `hello` calls `onReady`, where the adapter catches up on posts it missed meanwhile.
 */
export class BotSocket {
  private ws: WebSocket | undefined;
  private seq = 1;
  private expectedSeq = 0;
  private lastHeard = 0;
  private ready = false;
  private everReady = false;
  private failures = 0;
  private stopped = true;
  private watchdog: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  /** How many times the socket was re-established (for tests and metrics). */
  reconnects = 0;

  constructor(private readonly opts: BotSocketOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
    this.watchdog = setInterval(() => this.tick(), this.opts.pingIntervalMs);
    this.watchdog.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.watchdog);
    clearTimeout(this.retry);
    this.retry = undefined;
    const ws = this.ws;
    this.ws = undefined;
    this.ready = false;
    ws?.removeAllListeners();
    ws?.on('error', () => {});
    ws?.terminate();
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Sends an action (e.g. `user_typing`); false when the socket is not up. */
  send(action: string, data: Record<string, unknown>): boolean {
    if (!this.ready || this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify({ action, seq: this.seq++, data }));
    return true;
  }

  private connect(): void {
    if (this.stopped) return;
    this.retry = undefined;
    this.ready = false;
    this.seq = 1;
    this.expectedSeq = 0;
    this.lastHeard = Date.now();
    const ws = new WebSocket(this.opts.url, { handshakeTimeout: Math.max(2 * this.opts.pingIntervalMs, 1000) });
    this.ws = ws;
    ws.on('open', () => {
      this.lastHeard = Date.now();
      ws.send(JSON.stringify({ action: 'authentication_challenge', seq: this.seq++, data: { token: this.opts.token } }));
    });
    ws.on('message', (raw) => {
      if (this.ws !== ws) return;
      this.lastHeard = Date.now();
      this.onMessage(ws, String(raw));
    });
    ws.on('pong', () => {
      if (this.ws === ws) this.lastHeard = Date.now();
    });
    ws.on('error', (err) => {
      if (this.ws === ws) this.opts.logger.debug({ bot: this.opts.name, err: err.message }, 'mattermost socket error');
    });
    ws.on('close', (code) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.ready = false;
      if (!this.stopped) this.opts.logger.warn({ bot: this.opts.name, code }, 'mattermost socket closed; reconnecting');
      this.scheduleReconnect();
    });
  }

  private onMessage(ws: WebSocket, raw: string): void {
    let msg: { seq_reply?: number; status?: string; error?: { message?: string }; event?: string; seq?: number; data?: Record<string, unknown>; broadcast?: MattermostEvent['broadcast'] };
    try {
      msg = JSON.parse(raw);
    } catch {
      return;
    }
    if (msg.seq_reply !== undefined) {
      if (msg.status === 'FAIL' && msg.seq_reply === 1) {
        this.opts.logger.error({ bot: this.opts.name, error: msg.error?.message }, 'mattermost refused the bot token on the socket');
      }
      return;
    }
    if (typeof msg.event !== 'string') return;
    if (msg.seq !== undefined && msg.seq !== this.expectedSeq) {
      // Events were lost: start over with a fresh socket and let the catch-up fill the gap.
      this.opts.logger.warn({ bot: this.opts.name, got: msg.seq, expected: this.expectedSeq }, 'mattermost socket skipped events; reconnecting');
      this.cut(ws);
      return;
    }
    this.expectedSeq = (msg.seq ?? this.expectedSeq) + 1;
    if (msg.event === 'hello') {
      this.ready = true;
      this.failures = 0;
      const reconnect = this.everReady;
      this.everReady = true;
      if (reconnect) {
        this.reconnects++;
        this.opts.logger.info({ bot: this.opts.name, reconnects: this.reconnects }, 'mattermost socket re-established');
      }
      this.opts.onReady(reconnect);
      return;
    }
    if (this.ready) this.opts.onEvent({ event: msg.event, data: msg.data ?? {}, broadcast: msg.broadcast, seq: msg.seq ?? 0 });
  }

  /** The watchdog: ping a live socket; cut one that has been silent for two intervals. */
  private tick(): void {
    const ws = this.ws;
    if (!ws || this.stopped) return;
    const silentFor = Date.now() - this.lastHeard;
    if (silentFor > 2 * this.opts.pingIntervalMs) {
      this.opts.logger.warn({ bot: this.opts.name, silentMs: silentFor }, 'mattermost socket went deaf; reconnecting');
      this.cut(ws);
      return;
    }
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({ action: 'ping', seq: this.seq++ }));
    ws.ping();
  }

  private cut(ws: WebSocket): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    this.ready = false;
    ws.removeAllListeners();
    ws.on('error', () => {});
    ws.terminate();
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retry) return;
    const base = Math.min(1000, this.opts.pingIntervalMs);
    const delay = Math.min(MAX_BACKOFF_MS, base * 2 ** this.failures) * (0.5 + Math.random() / 2);
    this.failures++;
    this.retry = setTimeout(() => this.connect(), delay);
    this.retry.unref();
  }
}
