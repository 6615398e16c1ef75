import type { ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { FakeLLMRequest, FakeMessage, Quirk, ResolvedAnswer } from './types.js';
import { pieces, startSse, writeSse } from './sse.js';
import { argsText, estimateTokens, uniqueId } from './script.js';

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

/** What OpenAI answers when the messages do not fit the model's context window (a 400). */
export function openAIContextOverflow(model: string): Json {
  return {
    error: {
      message: `This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages. (model ${model})`,
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
    },
  };
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

/** Servers that put tool calls in the content write each as `{"name", "arguments"}` between their own markers. */
const CONTENT_MARKERS: Partial<Record<Quirk, [string, string]>> = { vllm: ['<tool_call>\n', '\n</tool_call>'], lmstudio: ['[TOOL_REQUEST]\n', '\n[END_TOOL_REQUEST]'] };

/** The content and tool calls as the answer's quirk puts them on the wire. */
function onTheWire(a: ResolvedAnswer): { content: string; toolCalls: Json[]; finish: string } {
  const markers = a.quirk ? CONTENT_MARKERS[a.quirk] : undefined;
  if (markers && a.toolCalls.length) {
    const calls = a.toolCalls.map((c) => `${markers[0]}{"name": ${JSON.stringify(c.name)}, "arguments": ${argsText(c)}}${markers[1]}`);
    return { content: [a.text, ...calls].filter(Boolean).join('\n'), toolCalls: [], finish: a.cutOff ? 'length' : 'stop' };
  }
  const toolCalls = a.toolCalls.map((c) => ({
    ...(a.quirk === 'llamacpp' ? {} : { id: c.id }),
    type: 'function',
    function: { name: c.name, arguments: a.quirk === 'ollama' && c.rawArgs === undefined ? c.args : argsText(c) },
  }));
  return { content: a.text, toolCalls, finish: a.cutOff ? 'length' : toolCalls.length ? 'tool_calls' : 'stop' };
}

export function openAICompletion(a: ResolvedAnswer): Json {
  const wire = onTheWire(a);
  const message: Json = { role: 'assistant', content: wire.content || (wire.toolCalls.length ? null : ''), refusal: null };
  // vLLM and DeepSeek-style servers return a reasoning model's thinking beside the answer.
  if (a.thinking !== undefined) message.reasoning_content = a.thinking;
  if (wire.toolCalls.length > 0) message.tool_calls = wire.toolCalls;
  return {
    id: uniqueId('chatcmpl-fake'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: a.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: wire.finish }],
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
  const wire = onTheWire(a);
  startSse(res, headers);
  writeSse(res, chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]));
  for (const p of pieces(wire.content)) {
    writeSse(res, chunk([{ index: 0, delta: { content: p }, logprobs: null, finish_reason: null }]));
  }
  wire.toolCalls.forEach((c, i) => {
    if (typeof c.function.arguments !== 'string') {
      // Ollama sends each call whole, arguments as an object, in one delta.
      writeSse(res, chunk([{ index: 0, delta: { tool_calls: [{ index: i, ...c }] }, logprobs: null, finish_reason: null }]));
      return;
    }
    writeSse(res, chunk([{ index: 0, delta: { tool_calls: [{ index: i, ...c, function: { name: c.function.name, arguments: '' } }] }, logprobs: null, finish_reason: null }]));
    for (const p of pieces(c.function.arguments)) {
      writeSse(res, chunk([{ index: 0, delta: { tool_calls: [{ index: i, function: { arguments: p } }] }, logprobs: null, finish_reason: null }]));
    }
  });
  writeSse(res, chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: wire.finish }]));
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
