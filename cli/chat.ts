import { createInterface, type Interface } from 'node:readline';
import { unauthorizedMessage } from './server-token.js';

/**
 * `pantheon chat`: the team in a terminal, for people without a browser. It speaks only the
 * public local-chat HTTP API (PRODUCT.md "Local chat"), so it works against any running
 * server: history with GET, live messages from the SSE stream, each typed line a POST.
 */
export interface ChatOptions {
  /** Base URL of a running Pantheon, e.g. http://127.0.0.1:3000. */
  url: string;
  conversation: string;
  /** Who is typing; shown to the team as the author. */
  user: string;
  /** The server's API token, sent as a bearer token. */
  token?: string;
  /** Where the token came from, for the message when the server refuses it. */
  tokenSource?: string;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** Post this one message, print the next agent or system reply, and return. */
  once?: string;
  /** How long `once` waits for a reply. Default 120 s: agents may think for a while. */
  timeoutMs?: number;
  /** First delay before reconnecting a dropped stream; doubles up to 5 s. */
  reconnectDelayMs?: number;
}

/** A message as the local-chat API returns it. */
export interface ChatMessage {
  id: string;
  role: 'user' | 'agent' | 'system';
  author: string;
  persona?: string | null;
  text: string;
  createdAt?: string;
}

/** `[apollo] text` for agents, `* text` for system notices, `<alice> text` for people. */
function formatMessage(m: ChatMessage): string {
  if (m.role === 'agent') return `[${m.persona || m.author}] ${m.text}`;
  if (m.role === 'system') return `* ${m.text}`;
  return `<${m.author}> ${m.text}`;
}

/** An HTTP answer that makes going on pointless (bad token, bad conversation name). */
class ChatApiError extends Error {}

class LocalChatClient {
  private readonly base: string;

  constructor(private readonly opts: ChatOptions) {
    this.base = `${opts.url.replace(/\/+$/, '')}/api/chat/${encodeURIComponent(opts.conversation)}`;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...extra, ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}) };
  }

  private async request(path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, { ...init, headers: this.headers(init.headers as Record<string, string>) });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new Error(`cannot reach Pantheon at ${this.opts.url} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); is \`pantheon start\` running?`);
    }
    if (res.ok) return res;
    const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } | string };
    const detail = typeof body.error === 'string' ? body.error : body.error?.message;
    if (res.status === 401) throw new ChatApiError(unauthorizedMessage({ value: this.opts.token, source: this.opts.tokenSource }));
    throw new ChatApiError(`${init.method ?? 'GET'} ${this.base}${path} answered ${res.status}${detail ? `: ${detail}` : ''}`);
  }

  async history(): Promise<ChatMessage[]> {
    const res = await this.request('/messages');
    return ((await res.json()) as { messages: ChatMessage[] }).messages;
  }

  async post(text: string): Promise<string> {
    const res = await this.request('/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text, user: this.opts.user }),
    });
    return ((await res.json()) as { id: string }).id;
  }

  /**
   * Keeps the SSE stream open until `signal` aborts, reconnecting (with Last-Event-ID) when
   * it drops. Resolves once the first connection is open; that first connection's failure,
   * and refusals (401, 400) at any time, reject through `onFatal`.
   */
  async subscribe(signal: AbortSignal, onMessage: (m: ChatMessage) => void, events: { onLost(): void; onBack(): void; onFatal(err: Error): void }): Promise<void> {
    let lastEventId: string | undefined;
    const open = () =>
      this.request('/stream', {
        signal,
        headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      });
    const consume = async (res: Response) => {
      for await (const event of readServerSentEvents(res.body!)) {
        if (event.id) lastEventId = event.id;
        if (event.event && event.event !== 'message') continue;
        try {
          onMessage(JSON.parse(event.data) as ChatMessage);
        } catch {
          // A line we cannot parse is not worth dropping the conversation for.
        }
      }
    };
    const first = await open();
    void (async () => {
      let res: Response | undefined = first;
      let delay = this.opts.reconnectDelayMs ?? 500;
      while (!signal.aborted) {
        try {
          if (!res) {
            res = await open();
            delay = this.opts.reconnectDelayMs ?? 500;
            events.onBack();
          }
          await consume(res);
        } catch (err) {
          if (signal.aborted) return;
          if (err instanceof ChatApiError) return events.onFatal(err);
        }
        if (signal.aborted) return;
        if (res) events.onLost();
        res = undefined;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    })();
  }
}

interface ServerSentEvent {
  id?: string;
  event?: string;
  data: string;
}

/** Minimal SSE parsing: `data:` lines joined until a blank line; comments ignored. */
async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  let id: string | undefined;
  let event: string | undefined;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r?\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(buffer[newline] === '\r' ? newline + 2 : newline + 1);
      if (line === '') {
        if (data.length) yield { id, event, data: data.join('\n') };
        data = [];
        event = undefined;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
      else if (field === 'event') event = value;
    }
  }
}

/** Runs the terminal chat until `/quit`, end of input, or (with `once`) the first reply. */
export async function runChat(opts: ChatOptions): Promise<void> {
  const output = opts.output ?? process.stdout;
  const input = opts.input ?? process.stdin;
  const client = new LocalChatClient(opts);
  const stop = new AbortController();
  const seen = new Set<string>();
  /** Lines typed here and not yet seen coming back on the stream: not printed twice. */
  const pending: string[] = [];
  let rl: Interface | undefined;
  const interactive = !opts.once && Boolean((output as NodeJS.WriteStream).isTTY && (input as NodeJS.ReadStream).isTTY);

  const print = (line: string) => {
    if (rl && interactive) {
      output.write('\r\x1b[K' + line + '\n');
      rl.prompt(true);
    } else {
      output.write(line + '\n');
    }
  };

  // Until the history is printed, live messages wait in a queue, so they appear after it.
  const queued: ChatMessage[] = [];
  let dispatch: (m: ChatMessage) => void = (m) => queued.push(m);
  let fail: (err: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => {});
  let lost = false;

  try {
    await client.subscribe(stop.signal, (m) => dispatch(m), {
      onLost: () => {
        if (!lost && !opts.once) print('* connection to the server lost; reconnecting...');
        lost = true;
      },
      onBack: () => {
        if (lost && !opts.once) print('* reconnected');
        lost = false;
        // Catch up on whatever was posted while disconnected; `seen` drops what was shown.
        void client.history().then(
          (messages) =>
            messages.forEach((m) => {
              dispatch(m);
            }),
          () => {},
        );
      },
      onFatal: (err) => fail(err),
    });
    const history = await client.history();

    if (opts.once !== undefined) {
      for (const m of history) seen.add(m.id);
      await Promise.race([replyTo(opts.once), failed]);
      return;
    }

    for (const m of history) show(m);
    dispatch = show;
    for (const m of queued.splice(0)) show(m);
    await Promise.race([readLines(), failed]);
  } finally {
    stop.abort();
    rl?.close();
  }

  function show(m: ChatMessage): void {
    if (seen.has(m.id)) return;
    seen.add(m.id);
    if (m.role === 'user' && m.author === opts.user) {
      const i = pending.indexOf(m.text);
      if (i >= 0) {
        pending.splice(i, 1);
        return;
      }
    }
    print(formatMessage(m));
  }

  async function replyTo(text: string): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const reply = new Promise<ChatMessage>((resolve) => {
      dispatch = (m) => {
        if (seen.has(m.id)) return;
        seen.add(m.id);
        if (m.role === 'agent' || m.role === 'system') resolve(m);
      };
      for (const m of queued.splice(0)) dispatch(m);
    });
    await client.post(text);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`no reply in ${opts.conversation} within ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)}s` : `${timeoutMs}ms`}; is a model configured? (see \`pantheon start\` logs)`),
          ),
        timeoutMs,
      );
    });
    try {
      print(formatMessage(await Promise.race([reply, timeout])));
    } finally {
      clearTimeout(timer);
    }
  }

  async function readLines(): Promise<void> {
    rl = createInterface({ input, output: interactive ? output : undefined, terminal: interactive });
    rl.setPrompt(`${opts.user}> `);
    if (interactive) {
      output.write(`* joined ${opts.conversation} as ${opts.user}; @mention a persona to talk to it, /quit to leave\n`);
      rl.prompt();
    }
    const sends: Promise<void>[] = [];
    for await (const raw of rl) {
      const line = raw.trim();
      if (line === '/quit' || line === '/exit') break;
      if (line) {
        pending.push(line);
        sends.push(
          client.post(line).then(
            () => undefined,
            (err: Error) => {
              pending.splice(pending.indexOf(line), 1);
              print(`* could not send: ${err.message}`);
            },
          ),
        );
      }
      if (interactive) rl.prompt();
    }
    await Promise.all(sends);
  }
}
