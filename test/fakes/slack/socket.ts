import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

/** What the app sent back for one envelope. */
export interface SocketAck {
  envelopeId: string;
  payload?: unknown;
}

/**
 * Socket Mode as Slack runs it: `apps.connections.open` hands out a one-time `wss` URL, the
 * socket says `hello`, then every event or interaction arrives in an envelope the app must ack
 * by sending `{envelope_id}` back. Unacked envelopes are what Slack would redeliver.
 */
export class SocketModeHub {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly tickets = new Map<string, string>();
  private readonly sockets = new Map<string, Set<WebSocket>>();
  private readonly waiting = new Map<string, (ack: SocketAck) => void>();
  /** Every ack received, in order. */
  readonly acks: SocketAck[] = [];

  /** A one-time connection URL for the app (what `apps.connections.open` answers). */
  connectionUrl(baseWsUrl: string, appId: string): string {
    const ticket = randomUUID();
    this.tickets.set(ticket, appId);
    return `${baseWsUrl}/link/?ticket=${ticket}&app_id=${appId}`;
  }

  /** The HTTP server's `upgrade` handler. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const appId = url.pathname === '/link/' ? this.tickets.get(url.searchParams.get('ticket') ?? '') : undefined;
    if (!appId) {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    this.tickets.delete(url.searchParams.get('ticket')!);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(appId, ws));
  }

  private accept(appId: string, ws: WebSocket): void {
    const set = this.sockets.get(appId) ?? new Set<WebSocket>();
    this.sockets.set(appId, set);
    set.add(ws);
    ws.on('close', () => set.delete(ws));
    ws.on('error', () => set.delete(ws));
    ws.on('message', (data) => {
      let msg: { envelope_id?: string; payload?: unknown };
      try {
        msg = JSON.parse(String(data));
      } catch {
        return;
      }
      if (!msg.envelope_id) return;
      const ack = { envelopeId: msg.envelope_id, payload: msg.payload };
      this.acks.push(ack);
      this.waiting.get(msg.envelope_id)?.(ack);
      this.waiting.delete(msg.envelope_id);
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: set.size,
        debug_info: { host: 'fake-slack', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: appId },
      }),
    );
  }

  connections(appId?: string): number {
    if (appId) return this.sockets.get(appId)?.size ?? 0;
    let n = 0;
    for (const set of this.sockets.values()) n += set.size;
    return n;
  }

  /**
   * Sends one envelope to the app and resolves with its ack. `type` is `events_api` for events and
   * `interactive` for button clicks. Rejects when the app is not connected or does not ack in time.
   */
  deliver(appId: string, type: 'events_api' | 'interactive', payload: unknown, opts: { retryNum?: number; timeoutMs?: number } = {}): Promise<SocketAck> {
    const ws = [...(this.sockets.get(appId) ?? [])][0];
    if (!ws) return Promise.reject(new Error(`app ${appId} has no Socket Mode connection`));
    const envelopeId = randomUUID();
    const envelope: Record<string, unknown> = { envelope_id: envelopeId, type, payload, accepts_response_payload: false };
    if (type === 'events_api') {
      envelope.retry_attempt = opts.retryNum ?? 0;
      envelope.retry_reason = opts.retryNum ? 'timeout' : '';
    }
    return new Promise<SocketAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(envelopeId);
        reject(new Error(`envelope ${envelopeId} (${type}) to ${appId} was not acked within ${opts.timeoutMs ?? 5000} ms`));
      }, opts.timeoutMs ?? 5000);
      this.waiting.set(envelopeId, (ack) => {
        clearTimeout(timer);
        resolve(ack);
      });
      ws.send(JSON.stringify(envelope));
    });
  }

  /** Tells the app's sockets to reconnect, as Slack does when it recycles a server. */
  disconnectAll(reason = 'refresh_requested'): void {
    for (const set of this.sockets.values()) for (const ws of set) ws.send(JSON.stringify({ type: 'disconnect', reason }));
  }

  close(): void {
    for (const set of this.sockets.values()) for (const ws of set) ws.terminate();
    this.sockets.clear();
    this.wss.close();
  }
}
