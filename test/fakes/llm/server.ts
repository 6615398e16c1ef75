import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { QUIRKS, type FakeLLMRequest, type Quirk, type Responder, type ScriptedResponse, type Wire } from './types.js';
import { Script, echoResponder, fixedResponder, resolveAnswer, uniqueId } from './script.js';
import { embeddingsResponse, normaliseOpenAIChat, openAICompletion, openAIContextOverflow, openAIError, streamOpenAICompletion } from './openai-wire.js';
import { ANTHROPIC_CONTEXT_OVERFLOW, anthropicError, anthropicMessage, normaliseAnthropic, streamAnthropicMessage, thinkingProblem } from './anthropic-wire.js';
import { ReasoningLedger, normaliseResponses, responseObject, responseOutput, responsesContextOverflow, streamResponse } from './responses-wire.js';
import { readBody, sendJson } from '../http-body.js';

/** A running scripted model server. */
export interface FakeLLM {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** `${url}/v1`, what the OpenAI SDK wants as baseURL. */
  openaiBaseUrl: string;
  /** `${url}`, what the Anthropic SDK wants as baseURL. */
  anthropicBaseUrl: string;
  /** Every model request seen, oldest first (embeddings and rejected ones too). */
  readonly requests: FakeLLMRequest[];
  /** Queues scripted responses, consumed in order by the chat wires. */
  enqueue(...responses: ScriptedResponse[]): void;
  /** Decides answers once the queue is empty; `undefined` restores the echo responder. */
  setResponder(fn: Responder | undefined): void;
  /** Scripted responses not consumed yet. */
  readonly pending: number;
  /** Behave like an OpenAI-compatible server with this quirk (see `Quirk`); `undefined`: like OpenAI. */
  setQuirk(quirk: Quirk | undefined): void;
  /** Forgets requests, queue, responder and quirk. */
  clear(): void;
  close(): Promise<void>;
}

type Json = Record<string, any>;

const CHAT_ROUTES: Record<string, Wire> = {
  '/v1/chat/completions': 'openai',
  '/chat/completions': 'openai',
  '/v1/responses': 'responses',
  '/responses': 'responses',
  '/v1/messages': 'anthropic',
  '/v1/embeddings': 'embeddings',
  '/embeddings': 'embeddings',
};

function errorBody(wire: Wire, status: number, message: string): Json {
  return wire === 'anthropic' ? anthropicError(status, message) : openAIError(status, message);
}

/** The credential each platform's SDK sends; missing, the platform answers 401. */
function missingAuth(wire: Wire, req: IncomingMessage): string | undefined {
  const bearer = /^Bearer\s+\S+/i.test(String(req.headers.authorization ?? ''));
  if (wire === 'anthropic') {
    return req.headers['x-api-key'] || bearer ? undefined : 'x-api-key header is required';
  }
  return bearer ? undefined : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
}

export async function startFakeLLM(opts: { port?: number } = {}): Promise<FakeLLM> {
  const script = new Script();
  const requests: FakeLLMRequest[] = [];
  /** The OpenAI-compatible server this one behaves like, for every answer with tool calls. */
  let quirk: Quirk | undefined;
  /** Which reasoning item preceded each function call the Responses wire answered, as OpenAI keeps it. */
  const ledger = new ReasoningLedger();

  async function handleModel(wire: Wire, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let body: Json;
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      sendJson(res, 400, errorBody(wire, 400, 'Request body is not valid JSON'));
      return;
    }
    const shape =
      wire === 'anthropic'
        ? normaliseAnthropic(body)
        : wire === 'openai'
          ? normaliseOpenAIChat(body)
          : wire === 'responses'
            ? normaliseResponses(body)
            : { model: String(body.model ?? ''), stream: false, messages: [], tools: [] };
    const record: FakeLLMRequest = { wire, path, ...shape, headers: { ...req.headers }, body, at: Date.now() };
    requests.push(record);

    const authProblem = missingAuth(wire, req);
    if (authProblem) {
      sendJson(res, 401, errorBody(wire, 401, authProblem));
      return;
    }
    if (wire === 'embeddings') {
      sendJson(res, 200, embeddingsResponse(body));
      return;
    }

    const thinkingRefused = wire === 'anthropic' ? thinkingProblem(body) : wire === 'responses' ? ledger.problem(body) : undefined;
    if (thinkingRefused) {
      sendJson(res, 400, errorBody(wire, 400, thinkingRefused));
      return;
    }
    const scripted = await script.next(record);
    if (scripted.delayMs) await sleep(scripted.delayMs);
    if (res.destroyed) return; // the client gave up (timeout) while we waited
    const headers = { 'x-request-id': uniqueId('req_'), 'request-id': uniqueId('req_'), ...(scripted.headers ?? {}) };
    if (scripted.contextOverflow) {
      const overflow = wire === 'anthropic' ? anthropicError(400, ANTHROPIC_CONTEXT_OVERFLOW) : wire === 'responses' ? responsesContextOverflow() : openAIContextOverflow(record.model);
      sendJson(res, 400, overflow, headers);
      return;
    }
    if (scripted.status && scripted.status >= 400) {
      sendJson(res, scripted.status, errorBody(wire, scripted.status, scripted.error ?? `Scripted error ${scripted.status}`), headers);
      return;
    }
    if (scripted.dropConnection) {
      // Headers and a first piece of the body, then the connection goes: a reset mid-answer.
      res.writeHead(200, { 'content-type': record.stream ? 'text/event-stream' : 'application/json', ...headers });
      res.write(
        record.stream
          ? 'data: {"id":"chatcmpl-cut","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Half an ans'
          : '{"id":"cut","choices":[{"index":0,"message":{"role":"assistant","content":"Half an ans',
      );
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    // Thinking is only answered to a request that asked for it, as the real API does.
    const asked = wire === 'anthropic' ? (body.thinking?.type === 'enabled' ? scripted : { ...scripted, thinking: undefined }) : scripted;
    const answer = resolveAnswer(asked, record, wire === 'anthropic' ? 'toolu_fake' : 'call_fake', wire === 'responses' ? undefined : quirk);
    if (wire === 'responses') {
      const response = responseObject(answer, body, responseOutput(answer, body, ledger));
      if (record.stream) streamResponse(res, response, headers);
      else sendJson(res, 200, response, headers);
    } else if (wire === 'anthropic') {
      if (record.stream) streamAnthropicMessage(res, answer, headers);
      else sendJson(res, scripted.status ?? 200, anthropicMessage(answer), headers);
    } else if (record.stream) {
      streamOpenAICompletion(res, answer, body.stream_options?.include_usage === true, headers);
    } else {
      sendJson(res, scripted.status ?? 200, openAICompletion(answer), headers);
    }
  }

  /** Lets another process (an end-to-end test driving `pantheon start`) steer the script. */
  async function handleControl(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.method === 'POST' ? await readBody(req) : '';
    let body: any;
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      sendJson(res, 400, { error: 'body must be JSON' });
      return;
    }
    if (path === '/_fake/requests' && req.method === 'GET') return sendJson(res, 200, requests);
    if (path === '/_fake/clear' && req.method === 'POST') {
      requests.length = 0;
      script.clear();
      quirk = undefined;
      return sendJson(res, 200, { ok: true });
    }
    if (path === '/_fake/quirk' && req.method === 'POST') {
      if (body.quirk !== null && !QUIRKS.includes(body.quirk)) return sendJson(res, 400, { error: `expected {quirk: null | ${QUIRKS.map((q) => JSON.stringify(q)).join(' | ')}}` });
      quirk = body.quirk ?? undefined;
      return sendJson(res, 200, { ok: true });
    }
    if (path === '/_fake/enqueue' && req.method === 'POST') {
      const list = Array.isArray(body) ? body : [body];
      script.enqueue(...list);
      return sendJson(res, 200, { ok: true, pending: script.pending });
    }
    if (path === '/_fake/responder' && req.method === 'POST') {
      if (body.mode === 'fixed' && typeof body.text === 'string') script.setResponder(fixedResponder(body.text));
      else if (body.mode === 'echo') script.setResponder(echoResponder);
      else return sendJson(res, 400, { error: "expected {mode: 'echo'} or {mode: 'fixed', text: string}" });
      return sendJson(res, 200, { ok: true });
    }
    sendJson(res, 404, { error: `no control route ${req.method} ${path}` });
  }

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const wire = CHAT_ROUTES[path];
    const work = path.startsWith('/_fake/')
      ? handleControl(path, req, res)
      : wire && req.method === 'POST'
        ? handleModel(wire, path, req, res)
        : Promise.resolve(sendJson(res, 404, { error: { message: `Unknown route ${req.method} ${path}`, type: 'invalid_request_error', code: null } }));
    work.catch((err: unknown) => {
      sendJson(res, 500, { error: { message: `fake LLM failed: ${(err as Error)?.message ?? err}`, type: 'server_error', code: null } });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    port,
    openaiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: url,
    get requests() {
      return requests;
    },
    enqueue: (...r) => script.enqueue(...r),
    setResponder: (fn) => script.setResponder(fn),
    get pending() {
      return script.pending;
    },
    setQuirk(q) {
      quirk = q;
    },
    clear() {
      requests.length = 0;
      script.clear();
      quirk = undefined;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
