import type { ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { FakeLLMRequest, FakeMessage, ResolvedAnswer } from './types.js';
import { pieces, startSse, writeSse } from './sse.js';
import { estimateTokens, uniqueId } from './script.js';

/** The OpenAI Chat Completions and Embeddings wire, as the official SDK speaks it. */

type Json = Record<string, any>;

function contentToText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((p: Json) => (typeof p === 'string' ? p : typeof p?.text === 'string' ? p.text : '')).join('');
  }
  return content == null ? '' : JSON.stringify(content);
}

function parseArgs(raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'string') return (raw as Record<string, unknown>) ?? {};
  try {
    return JSON.parse(raw || '{}');
  } catch {
    return { _raw: raw };
  }
}

export function normaliseOpenAIChat(body: Json): Pick<FakeLLMRequest, 'model' | 'stream' | 'messages' | 'tools'> {
  const messages: FakeMessage[] = (Array.isArray(body.messages) ? body.messages : []).map((m: Json) => {
    const role = m.role === 'developer' ? 'system' : m.role;
    const msg: FakeMessage = { role, content: contentToText(m.content) };
    if (Array.isArray(m.tool_calls) && m.tool_calls.length > 0) {
      msg.toolCalls = m.tool_calls.map((c: Json) => ({
        id: c.id,
        name: c.function?.name,
        args: parseArgs(c.function?.arguments),
      }));
    }
    if (m.tool_call_id) msg.toolCallId = m.tool_call_id;
    return msg;
  });
  const tools: string[] = (Array.isArray(body.tools) ? body.tools : []).map((t: Json) => t.function?.name ?? t.name).filter((n: unknown): n is string => typeof n === 'string');
  return { model: String(body.model ?? ''), stream: body.stream === true, messages, tools };
}

const ERROR_TYPES: Record<number, { type: string; code: string | null }> = {
  400: { type: 'invalid_request_error', code: null },
  401: { type: 'invalid_request_error', code: 'invalid_api_key' },
  403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory' },
  404: { type: 'invalid_request_error', code: 'model_not_found' },
  429: { type: 'requests', code: 'rate_limit_exceeded' },
};

/** OpenAI's error body: `{ error: { message, type, param, code } }`. */
export function openAIError(status: number, message: string): Json {
  const known = ERROR_TYPES[status] ?? (status >= 500 ? { type: 'server_error', code: null } : { type: 'invalid_request_error', code: null });
  return { error: { message, type: known.type, param: null, code: known.code } };
}

function usageOf(a: ResolvedAnswer): Json {
  return { prompt_tokens: a.usage.input, completion_tokens: a.usage.output, total_tokens: a.usage.input + a.usage.output };
}

export function openAICompletion(a: ResolvedAnswer): Json {
  const message: Json = { role: 'assistant', content: a.text || (a.toolCalls.length ? null : ''), refusal: null };
  if (a.toolCalls.length > 0) {
    message.tool_calls = a.toolCalls.map((c) => ({
      id: c.id,
      type: 'function',
      function: { name: c.name, arguments: JSON.stringify(c.args) },
    }));
  }
  return {
    id: uniqueId('chatcmpl-fake'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: a.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: a.toolCalls.length ? 'tool_calls' : 'stop' }],
    usage: usageOf(a),
    system_fingerprint: 'fp_fake',
  };
}

/** Streams an answer as chat.completion.chunk frames, tool-call arguments as deltas. */
export function streamOpenAICompletion(res: ServerResponse, a: ResolvedAnswer, includeUsage: boolean, headers: Record<string, string>): void {
  const id = uniqueId('chatcmpl-fake');
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices: Json[], extra: Json = {}) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: a.model,
    system_fingerprint: 'fp_fake',
    choices,
    ...(includeUsage ? { usage: null } : {}),
    ...extra,
  });
  startSse(res, headers);
  writeSse(res, chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]));
  for (const p of pieces(a.text)) {
    writeSse(res, chunk([{ index: 0, delta: { content: p }, logprobs: null, finish_reason: null }]));
  }
  a.toolCalls.forEach((c, i) => {
    writeSse(res, chunk([{ index: 0, delta: { tool_calls: [{ index: i, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }] }, logprobs: null, finish_reason: null }]));
    for (const p of pieces(JSON.stringify(c.args))) {
      writeSse(res, chunk([{ index: 0, delta: { tool_calls: [{ index: i, function: { arguments: p } }] }, logprobs: null, finish_reason: null }]));
    }
  });
  writeSse(res, chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: a.toolCalls.length ? 'tool_calls' : 'stop' }]));
  if (includeUsage) writeSse(res, chunk([], { usage: usageOf(a) }));
  writeSse(res, '[DONE]');
  res.end();
}

// ---- embeddings ----

/** Inputs as the SDK may send them: a string, strings, or token arrays. */
export function embeddingInputs(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input)) {
    if (input.every((x) => typeof x === 'number')) return [input.join(',')];
    return input.map((x) => (typeof x === 'string' ? x : Array.isArray(x) ? x.join(',') : String(x)));
  }
  return [];
}

/**
 * A deterministic unit vector seeded by the text's hash: equal texts give equal
 * vectors, different texts give (nearly) orthogonal ones.
 */
export function fakeEmbedding(text: string, dimensions: number): number[] {
  const seed = createHash('sha256').update(text).digest();
  let state = seed.readUInt32LE(0) ^ seed.readUInt32LE(4) || 1;
  const v = new Array<number>(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    // xorshift32: cheap, deterministic, good enough spread for tests.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const x = state / 0xffffffff - 0.5;
    v[i] = x;
    norm += x * x;
  }
  const scale = 1 / Math.sqrt(norm || 1);
  return v.map((x) => x * scale);
}

export function embeddingsResponse(body: Json): Json {
  const dimensions = Number.isInteger(body.dimensions) && body.dimensions > 0 ? body.dimensions : 384;
  const inputs = embeddingInputs(body.input);
  const base64 = body.encoding_format === 'base64';
  const data = inputs.map((text, index) => {
    const vec = fakeEmbedding(text, dimensions);
    const embedding = base64 ? Buffer.from(new Float32Array(vec).buffer).toString('base64') : vec;
    return { object: 'embedding', index, embedding };
  });
  const tokens = inputs.reduce((n, t) => n + estimateTokens(t), 0);
  return { object: 'list', data, model: String(body.model ?? 'text-embedding-3-small'), usage: { prompt_tokens: tokens, total_tokens: tokens } };
}
