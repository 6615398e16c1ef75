import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { runChat, type ChatMessage } from '../../cli/chat.js';

/**
 * A tiny stand-in for the local-chat API of PRODUCT.md: GET/POST messages and an SSE
 * stream. `reply` scripts what "the team" answers to each posted message.
 */
class FakeLocalChat {
  readonly messages: ChatMessage[] = [];
  readonly posts: { text: string; user: string; auth?: string }[] = [];
  readonly streamRequests: { lastEventId?: string; auth?: string }[] = [];
  private readonly streams = new Set<ServerResponse>();
  private seq = 0;
  reply: (text: string) => Omit<ChatMessage, 'id'>[] = () => [];
  server: Server;
  url = '';

  constructor(private readonly token?: string) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  /** Appends a message and pushes it to every open stream. */
  add(m: Omit<ChatMessage, 'id' | 'createdAt'>): ChatMessage {
    const message = { id: `m${++this.seq}`, createdAt: new Date().toISOString(), persona: null, ...m };
    this.messages.push(message);
    for (const res of this.streams) res.write(`id: ${this.seq}\nevent: message\ndata: ${JSON.stringify(message)}\n\n`);
    return message;
  }

  /** Cuts every open stream, as a restarting server or a flaky proxy would. */
  dropStreams(): void {
    for (const res of this.streams) res.destroy();
    this.streams.clear();
  }

  get openStreams(): number {
    return this.streams.size;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const auth = req.headers.authorization;
    if (this.token && auth !== `Bearer ${this.token}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'unauthorized', message: 'missing token' } }));
      return;
    }
    const url = new URL(req.url!, this.url);
    if (req.method === 'GET' && url.pathname === '/api/chat/general/messages') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ messages: this.messages }));
    } else if (req.method === 'GET' && url.pathname === '/api/chat/general/stream') {
      this.streamRequests.push({ lastEventId: req.headers['last-event-id'] as string | undefined, auth });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': connected\n\n');
      this.streams.add(res);
      res.on('close', () => this.streams.delete(res));
    } else if (req.method === 'POST' && url.pathname === '/api/chat/general/messages') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const { text, user } = JSON.parse(body) as { text: string; user: string };
        this.posts.push({ text, user, auth });
        const stored = this.add({ role: 'user', author: user, text });
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id: stored.id }));
        setTimeout(() => {
          for (const m of this.reply(text)) this.add(m);
        }, 10);
      });
    } else {
      res.writeHead(404).end();
    }
  }
}

/** A fake terminal: lines typed in, everything printed collected. */
function terminal() {
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = '';
  output.on('data', (c: Buffer) => (printed += c.toString()));
  return {
    input,
    output,
    type: (line: string) => input.write(`${line}\n`),
    get printed() {
      return printed;
    },
    async waitFor(text: string, ms = 3000): Promise<void> {
      const until = Date.now() + ms;
      while (!printed.includes(text)) {
        if (Date.now() > until) assert.fail(`terminal never showed ${JSON.stringify(text)}; it shows:\n${printed}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

async function until(condition: () => boolean, what = 'condition', ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const servers: FakeLocalChat[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});
async function fakeServer(token?: string): Promise<FakeLocalChat> {
  const s = await new FakeLocalChat(token).start();
  servers.push(s);
  return s;
}

describe('pantheon chat', () => {
  it('prints the history, then live messages by kind, posts typed lines once, and ends on /quit', async () => {
    const server = await fakeServer();
    server.add({ role: 'user', author: 'alice', text: '@athena hello' });
    server.add({ role: 'agent', author: 'Athena', persona: 'athena', text: 'Hi alice.' });
    server.reply = (text) => [
      { role: 'agent', author: 'Apollo', persona: 'apollo', text: `on it: ${text}` },
      { role: 'system', author: 'pantheon', text: 'approval needed: 7f3a' },
    ];
    const term = terminal();
    const done = runChat({ url: server.url, conversation: 'general', user: 'alice', input: term.input, output: term.output });

    await term.waitFor('[athena] Hi alice.');
    term.type('@apollo fix the build');
    await term.waitFor('* approval needed: 7f3a');
    server.add({ role: 'user', author: 'bob', text: 'me too' });
    await term.waitFor('<bob> me too');
    term.type('/quit');
    await done;

    assert.deepEqual(server.posts, [{ text: '@apollo fix the build', user: 'alice', auth: undefined }]);
    assert.equal(term.printed, ['<alice> @athena hello', '[athena] Hi alice.', '[apollo] on it: @apollo fix the build', '* approval needed: 7f3a', '<bob> me too', ''].join('\n'));
    await until(() => server.openStreams === 0, 'the stream is closed when the chat ends');
  });

  it('ends at the end of input after sending what was typed', async () => {
    const server = await fakeServer();
    const term = terminal();
    const done = runChat({ url: server.url, conversation: 'general', user: 'carol', input: term.input, output: term.output });
    term.input.end('first\n\nsecond\n');
    await done;
    assert.deepEqual(
      server.posts.map((p) => p.text),
      ['first', 'second'],
    );
  });

  it('reconnects when the stream drops and shows what it missed', async () => {
    const server = await fakeServer();
    const term = terminal();
    const done = runChat({ url: server.url, conversation: 'general', user: 'alice', input: term.input, output: term.output, reconnectDelayMs: 20 });
    await until(() => server.openStreams === 1);
    server.add({ role: 'agent', author: 'Hermes', persona: 'hermes', text: 'before the drop' });
    await term.waitFor('[hermes] before the drop');
    server.dropStreams();
    await term.waitFor('* connection to the server lost; reconnecting...');
    await term.waitFor('* reconnected');
    server.add({ role: 'agent', author: 'Hermes', persona: 'hermes', text: 'after the drop' });
    await term.waitFor('[hermes] after the drop');
    term.input.end();
    await done;
    assert.equal(server.streamRequests.length, 2);
    assert.equal(server.streamRequests[1]!.lastEventId, '1', 'the reconnect resumes from the last event seen');
    assert.equal(term.printed.split('before the drop').length, 2, 'nothing is printed twice');
  });

  it('catches up from the history after a reconnect that cannot resume', async () => {
    const server = await fakeServer();
    const term = terminal();
    const done = runChat({ url: server.url, conversation: 'general', user: 'alice', input: term.input, output: term.output, reconnectDelayMs: 50 });
    await until(() => server.openStreams === 1);
    server.dropStreams();
    server.add({ role: 'agent', author: 'Athena', persona: 'athena', text: 'said while you were away' });
    await term.waitFor('[athena] said while you were away');
    // The missed message comes from the history; the new stream opens right after it.
    await until(() => server.streamRequests.length === 2);
    term.input.end();
    await done;
    assert.equal(server.streamRequests[1]!.lastEventId, undefined);
  });

  it('--once posts one message, prints the next reply only, and returns', async () => {
    const server = await fakeServer('console-secret');
    server.add({ role: 'agent', author: 'Athena', persona: 'athena', text: 'old news' });
    server.reply = () => [{ role: 'agent', author: 'Hephaestus', persona: 'hephaestus', text: 'staging api restarted' }];
    const term = terminal();
    await runChat({ url: server.url, conversation: 'general', user: 'ops', token: 'console-secret', output: term.output, input: term.input, once: '@hephaestus restart staging api' });
    assert.equal(term.printed, '[hephaestus] staging api restarted\n');
    assert.deepEqual(server.posts, [{ text: '@hephaestus restart staging api', user: 'ops', auth: 'Bearer console-secret' }]);
    assert.equal(server.streamRequests[0]!.auth, 'Bearer console-secret');
  });

  it('--once fails with a clear message when no reply comes in time', async () => {
    const server = await fakeServer();
    const term = terminal();
    await assert.rejects(runChat({ url: server.url, conversation: 'general', user: 'ops', output: term.output, once: 'anyone?', timeoutMs: 100 }), /^Error: no reply in general within 100ms/);
    assert.equal(term.printed, '');
  });

  it('says to set PANTHEON_CONSOLE_TOKEN when the server wants one', async () => {
    const server = await fakeServer('console-secret');
    const term = terminal();
    await assert.rejects(
      runChat({ url: server.url, conversation: 'general', user: 'alice', input: term.input, output: term.output }),
      /^Error: the server needs a console token; set PANTHEON_CONSOLE_TOKEN, or pass the --data-dir the server uses$/,
    );
  });

  it('says when no server answers', async () => {
    const server = await fakeServer();
    const url = server.url;
    await server.stop();
    servers.length = 0;
    await assert.rejects(runChat({ url, conversation: 'general', user: 'alice', output: terminal().output }), /cannot reach Pantheon at http:\/\/127\.0\.0\.1:\d+ .*is `pantheon start` running\?/);
  });
});
