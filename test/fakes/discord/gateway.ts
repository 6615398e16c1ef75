import { WebSocketServer, type WebSocket } from 'ws';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { apiUser, type FakeBot, type FakeDiscordState, type Json } from './state.js';

/** Gateway opcodes the fake speaks (Discord gateway v10). */
export const Op = { Dispatch: 0, Heartbeat: 1, Identify: 2, PresenceUpdate: 3, Resume: 6, InvalidSession: 9, Hello: 10, HeartbeatAck: 11 } as const;

/** One bot's gateway connection after IDENTIFY. */
export interface GatewaySession {
  id: string;
  bot: FakeBot;
  intents: number;
  socket: WebSocket;
  seq: number;
  heartbeats: number;
}

/**
 * The fake gateway: HELLO on connect, IDENTIFY → READY + one GUILD_CREATE per guild,
 * heartbeats acknowledged, RESUME answered with "invalid session" (so the client identifies
 * afresh), and `dispatch` to push events to the bots that can see them.
 */
export class FakeGateway {
  readonly sessions = new Set<GatewaySession>();
  private readonly wss = new WebSocketServer({ noServer: true });
  /** Every IDENTIFY seen (token redacted), for tests that check intents. */
  readonly identifies: Array<{ botId: string; intents: number }> = [];

  constructor(
    private readonly state: FakeDiscordState,
    private readonly heartbeatIntervalMs: number,
  ) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(ws: WebSocket): void {
    let session: GatewaySession | undefined;
    const send = (payload: Json) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(payload));
    };
    send({ op: Op.Hello, d: { heartbeat_interval: this.heartbeatIntervalMs }, s: null, t: null });
    ws.on('message', (raw) => {
      let frame: Json;
      try {
        frame = JSON.parse(String(raw));
      } catch {
        return void ws.close(4002, 'Decode error');
      }
      switch (frame.op) {
        case Op.Heartbeat:
          if (session) session.heartbeats++;
          return send({ op: Op.HeartbeatAck, d: null, s: null, t: null });
        case Op.Identify: {
          const bot = this.state.botsByToken.get(String(frame.d?.token ?? '').replace(/^Bot\s+/i, ''));
          if (!bot) return void ws.close(4004, 'Authentication failed.');
          session = { id: randomUUID(), bot, intents: Number(frame.d?.intents ?? 0), socket: ws, seq: 0, heartbeats: 0 };
          this.identifies.push({ botId: bot.id, intents: session.intents });
          this.sessions.add(session);
          const guilds = [...this.state.guilds.values()];
          this.send(session, 'READY', {
            v: 10,
            user: { ...apiUser(bot), verified: true, mfa_enabled: false },
            guilds: guilds.map((g) => ({ id: g.id, unavailable: true })),
            session_id: session.id,
            resume_gateway_url: '',
            shard: [0, 1],
            application: { id: bot.id, flags: 0 },
            private_channels: [],
            relationships: [],
          });
          for (const g of guilds) this.send(session, 'GUILD_CREATE', this.state.apiGuild(g));
          return;
        }
        case Op.Resume:
          return send({ op: Op.InvalidSession, d: false, s: null, t: null });
        default:
          return; // presence updates and the like: accepted, ignored
      }
    });
    ws.on('close', () => {
      if (session) this.sessions.delete(session);
    });
  }

  private send(session: GatewaySession, event: string, data: Json): void {
    if (session.socket.readyState !== session.socket.OPEN) return;
    session.socket.send(JSON.stringify({ op: Op.Dispatch, t: event, s: ++session.seq, d: data }));
  }

  /** Sends an event to every connected bot `to` accepts (default: all). */
  dispatch(event: string, data: Json | ((bot: FakeBot) => Json), to: (bot: FakeBot) => boolean = () => true): void {
    for (const s of this.sessions) {
      if (to(s.bot)) this.send(s, event, typeof data === 'function' ? data(s.bot) : data);
    }
  }

  connected(bot: FakeBot): boolean {
    return [...this.sessions].some((s) => s.bot.id === bot.id);
  }

  close(): void {
    for (const s of this.sessions) s.socket.terminate();
    this.wss.close();
  }
}
