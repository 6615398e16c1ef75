import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { newId, type FakeChannel, type FakeUser, type World } from './world.js';

/**
 * The fake's `/api/v4/websocket`: Mattermost's event stream. A client authenticates with the
 * `authentication_challenge` action (or an `Authorization: Bearer` header on the upgrade), gets
 * a `hello` event, then events with a per-connection `seq`; actions (`ping`, `user_typing`) are
 * answered with `seq_reply`. WebSocket-level pings are answered with pongs by hand, so a test
 * can make a connection go silent: no events, no pongs, no replies, and no close either.
 */

export interface Connection {
  id: string;
  ws: WebSocket;
  user?: FakeUser;
  seq: number;
  /** A deaf connection: stays open, says nothing. */
  silent: boolean;
  openedAt: number;
}

export interface TypingRecord {
  userId: string;
  username: string;
  channelId: string;
  parentId: string;
  at: number;
}

export class Hub {
  readonly connections = new Set<Connection>();
  readonly typing: TypingRecord[] = [];
  private readonly wss = new WebSocketServer({ noServer: true, autoPong: false });

  constructor(private readonly world: World) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!new URL(req.url ?? '/', 'http://x').pathname.endsWith('/api/v4/websocket')) {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const conn: Connection = { id: newId(), ws, seq: 0, silent: false, openedAt: Date.now() };
    this.connections.add(conn);
    ws.on('close', () => this.connections.delete(conn));
    ws.on('error', () => this.connections.delete(conn));
    ws.on('ping', (data) => {
      if (!conn.silent) ws.pong(data);
    });
    ws.on('message', (raw) => this.onAction(conn, String(raw)));
    const bearer = /^Bearer\s+(\S+)/i.exec(String(req.headers.authorization ?? ''))?.[1];
    if (bearer) this.authenticate(conn, bearer);
  }

  private authenticate(conn: Connection, token: string): boolean {
    const user = this.world.userByToken(token);
    if (!user) return false;
    conn.user = user;
    this.send(conn, 'hello', { connection_id: conn.id, server_version: '10.5.0.fake', server_hostname: 'fake-mattermost' }, { user_id: user.id });
    return true;
  }

  private onAction(conn: Connection, raw: string): void {
    if (conn.silent) return;
    let msg: { action?: string; seq?: number; data?: Record<string, unknown> };
    try {
      msg = JSON.parse(raw);
    } catch {
      return;
    }
    const reply = (status: 'OK' | 'FAIL', data?: unknown, error?: unknown) =>
      conn.ws.send(JSON.stringify({ status, seq_reply: msg.seq, ...(data !== undefined ? { data } : {}), ...(error ? { error } : {}) }));
    if (msg.action === 'authentication_challenge') {
      const token = String(msg.data?.token ?? '');
      if (conn.user) return reply('OK');
      // Mattermost answers OK first, then the hello event.
      if (this.world.userByToken(token)) {
        reply('OK');
        this.authenticate(conn, token);
      } else {
        reply('FAIL', undefined, { id: 'api.web_socket_router.not_authenticated.app_error', message: 'not authenticated' });
        conn.ws.close(4001, 'not authenticated');
      }
      return;
    }
    if (!conn.user) return reply('FAIL', undefined, { id: 'api.web_socket_router.not_authenticated.app_error', message: 'not authenticated' });
    if (msg.action === 'ping') return reply('OK', { text: 'pong', version: '10.5.0.fake', server_time: Date.now(), node_id: '' });
    if (msg.action === 'user_typing') {
      const channelId = String(msg.data?.channel_id ?? '');
      const parentId = String(msg.data?.parent_id ?? '');
      this.typing.push({ userId: conn.user.id, username: conn.user.username, channelId, parentId, at: Date.now() });
      const channel = this.world.channels.get(channelId);
      if (channel) this.broadcast(channel, 'typing', { parent_id: parentId, user_id: conn.user.id }, { omitUser: conn.user.id });
      return reply('OK');
    }
    reply('OK');
  }

  /** Sends an event to every live connection of every member of `channel`. */
  broadcast(channel: FakeChannel, event: string, data: Record<string, unknown>, opts: { omitUser?: string } = {}): void {
    for (const conn of this.connections) {
      if (!conn.user || !channel.members.has(conn.user.id) || conn.user.id === opts.omitUser) continue;
      this.send(conn, event, data, { channel_id: channel.id });
    }
  }

  /** Sends an event to every live connection of one user. */
  toUser(userId: string, event: string, data: Record<string, unknown>): void {
    for (const conn of this.connections) if (conn.user?.id === userId) this.send(conn, event, data, { user_id: userId });
  }

  private send(conn: Connection, event: string, data: Record<string, unknown>, broadcast: Record<string, string>): void {
    // A silent connection drops events, like a half-open TCP connection would.
    if (conn.silent || conn.ws.readyState !== conn.ws.OPEN) return;
    conn.ws.send(
      JSON.stringify({
        event,
        data,
        broadcast: { omit_users: null, user_id: '', channel_id: '', team_id: '', connection_id: '', omit_connection_id: '', ...broadcast },
        seq: conn.seq++,
      }),
    );
  }

  /** Authenticated, open connections (of one user, if given). */
  live(username?: string): Connection[] {
    return [...this.connections].filter((c) => c.user && c.ws.readyState === c.ws.OPEN && (!username || c.user.username === username));
  }

  /** Makes the current connections (of one user, if given) deaf without closing them. Returns how many. */
  silence(username?: string): number {
    const conns = this.live(username).filter((c) => !c.silent);
    for (const c of conns) c.silent = true;
    return conns.length;
  }

  /** Cuts the current connections (of one user, if given) abruptly. */
  drop(username?: string): number {
    const conns = this.live(username);
    for (const c of conns) c.ws.terminate();
    return conns.length;
  }

  close(): void {
    for (const c of this.connections) c.ws.terminate();
    this.wss.close();
  }
}
