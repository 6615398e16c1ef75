import type { Server } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** An open Server-Sent Events response. */
export interface EventStream {
  /** One event; with `id`, a reconnecting client resumes after it (`Last-Event-ID`). Dropped once closed. */
  send(event: string, data: unknown, id?: string | number): void;
  /** Runs `fn` once when the stream closes (at once if it already has). */
  onClose(fn: () => void): void;
  close(): void;
  readonly closed: boolean;
}

/** The streams open on each HTTP server: an open stream would otherwise hold the server's close until its client left. */
const openOn = new WeakMap<Server, Set<() => void>>();

/**
 * Takes the response over as an SSE stream: the head (no caching or proxy buffering), a `:
 * connected` comment, then a `: keep-alive` comment every `heartbeatMs`. It closes once, when the
 * client goes, when `close()` is called, or when the server stops (`endEventStreams`); every
 * `onClose` function runs then.
 */
export function openEventStream(req: FastifyRequest, reply: FastifyReply, heartbeatMs = 15_000): EventStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': req.id,
  });
  res.write(': connected\n\n');
  const server = req.server.server;
  const open = openOn.get(server) ?? new Set();
  openOn.set(server, open);
  const closers: Array<() => void> = [];
  let closed = false;
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
  heartbeat.unref();
  const close = () => {
    if (closed) return;
    closed = true;
    open.delete(close);
    clearInterval(heartbeat);
    for (const fn of closers) fn();
    res.end();
  };
  open.add(close);
  req.raw.on('close', close);
  res.on('close', close);
  return {
    send(event, data, id) {
      if (!closed) res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    onClose(fn) {
      if (closed) fn();
      else closers.push(fn);
    },
    close,
    get closed() {
      return closed;
    },
  };
}

/** Ends every stream open on `server`, as it stops (core/http/server.ts calls it before closing). */
export function endEventStreams(server: Server): void {
  for (const close of [...(openOn.get(server) ?? [])]) close();
}
