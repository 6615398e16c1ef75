import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { get, type IncomingMessage } from 'node:http';
import { openEventStream, type EventStream } from '../../core/http/event-stream.js';
import { createHttpServer, listen } from '../../core/http/index.js';
import { createLogger } from '../../core/log.js';
import { createMetrics } from '../../core/metrics.js';

const TOKEN = 'console-token-0123456789';

/** A server with one stream route, `/api/events`; each stream it opens is handed to `opened`. */
async function serve(opened: (stream: EventStream) => void) {
  const app = createHttpServer({ logger: createLogger({ level: 'silent' }), metrics: createMetrics(), bodyLimitBytes: 64 * 1024, consoleToken: TOKEN, ready: async () => true });
  app.get('/api/events', async (req, reply) => opened(openEventStream(req, reply, 50)));
  const { url } = await listen(app, { port: 0 });
  return { app, url };
}

/** Reads a response body as text until `until` matches what came, or the body ends. */
async function readUntil(res: Response, until?: RegExp): Promise<{ text: string; ended: boolean }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text, ended: true };
    text += decoder.decode(value, { stream: true });
    if (until?.test(text)) {
      reader.releaseLock();
      return { text, ended: false };
    }
  }
}

describe('openEventStream: a Server-Sent Events response', () => {
  it('answers the SSE head, a connected comment, events (with an id to resume from) and keep-alive comments', async () => {
    const { app, url } = await serve((stream) => {
      stream.send('message', { text: 'hello' }, 7);
      stream.send('changed', { pending: 2 });
    });
    try {
      const res = await fetch(`${url}/api/events`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      assert.equal(res.headers.get('cache-control'), 'no-cache, no-transform');
      assert.equal(res.headers.get('x-accel-buffering'), 'no');
      assert.ok(res.headers.get('x-request-id'));
      const { text } = await readUntil(res, /: keep-alive\n\n/);
      assert.ok(text.startsWith(': connected\n\nid: 7\nevent: message\ndata: {"text":"hello"}\n\nevent: changed\ndata: {"pending":2}\n\n'), JSON.stringify(text));
      await res.body!.cancel();
    } finally {
      await app.close();
    }
  });

  it('closes once when the client goes: each onClose function runs once', async () => {
    let stream: EventStream | undefined;
    const closed: string[] = [];
    const { app, url } = await serve((s) => {
      stream = s;
      s.onClose(() => closed.push('first'));
      s.onClose(() => closed.push('second'));
    });
    try {
      // node:http, one socket for the request: fetch's pool would keep a spare connection open, holding the server's close.
      const req = get(`${url}/api/events`, { agent: false, headers: { authorization: `Bearer ${TOKEN}` } });
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      await once(res, 'data');
      req.destroy();
      while (!stream!.closed) await new Promise((r) => setTimeout(r, 10));
      stream!.send('message', { text: 'too late' }); // dropped, not written to a closed response
      stream!.close();
      assert.deepEqual(closed, ['first', 'second']);
      stream!.onClose(() => closed.push('after'));
      assert.deepEqual(closed, ['first', 'second', 'after'], 'a function added after the close runs at once');
    } finally {
      await app.close();
    }
  });

  it('ends when the server stops, instead of holding the stop until the client leaves', async () => {
    let closedOnStop = false;
    const { app, url } = await serve((s) => s.onClose(() => (closedOnStop = true)));
    const res = await fetch(`${url}/api/events`, { headers: { authorization: `Bearer ${TOKEN}` } });
    await readUntil(res, /: connected/);
    const stopping = app.close();
    const stopped = await Promise.race([stopping.then(() => 'stopped'), new Promise((r) => setTimeout(() => r('still open after 3 s'), 3000).unref())]);
    assert.equal(stopped, 'stopped');
    assert.equal(closedOnStop, true);
    assert.equal((await readUntil(res)).ended, true, "the client sees the stream's end");
  });
});
