import type { FastifyReply, FastifyRequest } from 'fastify';
import { cookieOf, SESSION_COOKIE, type SessionVerifier } from '../core/http/principal.js';

/** An open Server-Sent Events response. */
export interface EventStream {
  send(event: string, data: unknown, id?: string | number): void;
  onClose(fn: () => void): void;
  close(): void;
  readonly closed: boolean;
}

/**
 * Takes the response over as an SSE stream (a keep-alive comment every `heartbeatMs`); `release`
 * and every `onClose` function run once when either side closes it.
 */
export function openEventStream(req: FastifyRequest, reply: FastifyReply, release: () => void, heartbeatMs = 15_000): EventStream {
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
  const closers: Array<() => void> = [release];
  let closed = false;
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
  heartbeat.unref();
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    for (const fn of closers) fn();
    res.end();
  };
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

/**
 * A stream opened by a console session ends when the session does (signed out in another tab,
 * expired, its human removed): its client's reconnection is then refused like any request, and
 * the console goes to the sign-in page. Looked at every `intervalMs`; the bearer token's streams
 * are left alone.
 */
export function endWithSession(req: FastifyRequest, stream: EventStream, sessions: SessionVerifier, intervalMs = 5000): void {
  if (req.principal?.kind !== 'human') return;
  const id = cookieOf(req, SESSION_COOKIE);
  if (!id) return;
  const timer = setInterval(() => {
    sessions.verify(id).then(
      (session) => {
        if (!session) stream.close();
      },
      () => {},
    );
  }, intervalMs);
  timer.unref();
  stream.onClose(() => clearInterval(timer));
}
