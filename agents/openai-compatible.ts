import { randomUUID } from 'node:crypto';

/**
 * OpenAI-compatible servers (Ollama, vLLM, LM Studio, llama.cpp's server) speak Chat Completions
 * with quirks the OpenAI SDK and LangChain do not expect, and each loses a tool call in its own way:
 * - arguments as a JSON object instead of a string (LangChain then fails to parse "[object Object]");
 * - tool calls without an `id` (a tool result could not say which call it answers);
 * - tool calls written into the content, by models served without a tool parser: Hermes/Qwen
 *   `<tool_call>{…}</tool_call>` (vLLM, Ollama), LM Studio's `[TOOL_REQUEST]{…}[END_TOOL_REQUEST]`,
 *   Llama 3.1's `<|python_tag|>{…}`, or the whole content as one `{"name", "arguments"}` object.
 * `repairCompletion` rewrites a completion into the shape OpenAI itself sends; `toleratingFetch`
 * applies it to every non-streamed Chat Completions answer before the SDK reads it. Streams pass
 * through as they are (Pantheon calls its models without streaming).
 */

type Json = Record<string, any>;

const newCallId = () => `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`;

const MARKED = [/<tool_call>([\s\S]*?)<\/tool_call>/g, /\[TOOL_REQUEST\]([\s\S]*?)\[END_TOOL_REQUEST\]/g, /<\|python_tag\|>([\s\S]*?)(?:<\|eom_id\|>|<\|eot_id\|>|$)/g];

/** `{"name", "arguments" | "parameters"}` as one wire tool call; arguments not valid JSON stay as their text. */
function asToolCall(body: string): Json | undefined {
  const text = body.trim();
  let parsed: Json | undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    // A call cut off or garbled inside the markers: keep what can be read, so the model is told.
    const name = /"name"\s*:\s*"([^"]+)"/.exec(text)?.[1];
    const args = /"(?:arguments|parameters)"\s*:\s*([\s\S]*)$/.exec(text)?.[1]?.replace(/\}\s*$/, '');
    if (!name) return undefined;
    return { id: newCallId(), type: 'function', function: { name, arguments: args ?? '' } };
  }
  if (!parsed || typeof parsed !== 'object' || typeof parsed.name !== 'string') return undefined;
  const args = parsed.arguments ?? parsed.parameters ?? {};
  return { id: newCallId(), type: 'function', function: { name: parsed.name, arguments: typeof args === 'string' ? args : JSON.stringify(args) } };
}

/** Tool calls written in the content, and the content without them; undefined when there are none. */
function callsInContent(content: string, offered: ReadonlySet<string>): { calls: Json[]; rest: string } | undefined {
  for (const pattern of MARKED) {
    const found = [...content.matchAll(pattern)];
    if (!found.length) continue;
    const calls = found.map((m) => asToolCall(m[1] ?? '')).filter((c): c is Json => !!c);
    if (!calls.length) continue;
    return { calls, rest: content.replace(pattern, '').trim() };
  }
  // The whole answer one JSON object naming an offered tool: a model without a tool template.
  const whole = content.trim();
  if (offered.size && whole.startsWith('{') && whole.endsWith('}')) {
    try {
      const parsed = JSON.parse(whole) as Json;
      if (typeof parsed?.name === 'string' && offered.has(parsed.name) && ('arguments' in parsed || 'parameters' in parsed)) {
        const call = asToolCall(whole);
        if (call) return { calls: [call], rest: '' };
      }
    } catch {
      /* prose that happens to look like JSON */
    }
  }
  return undefined;
}

/** Rewrites one Chat Completions answer in place into OpenAI's own shape; answers whether anything changed. */
function repairCompletion(completion: Json, offered: ReadonlySet<string>): boolean {
  let changed = false;
  for (const choice of Array.isArray(completion?.choices) ? completion.choices : []) {
    const message = choice?.message;
    if (!message || typeof message !== 'object') continue;
    const calls: Json[] = Array.isArray(message.tool_calls) ? message.tool_calls : [];
    for (const call of calls) {
      if (!call || typeof call !== 'object') continue;
      if (typeof call.id !== 'string' || !call.id) {
        call.id = newCallId();
        changed = true;
      }
      if (!call.type) call.type = 'function';
      const fn = call.function ?? {};
      if (fn.arguments !== undefined && typeof fn.arguments !== 'string') {
        fn.arguments = JSON.stringify(fn.arguments);
        changed = true;
      }
      if (fn.arguments === undefined || fn.arguments === null) fn.arguments = '{}';
    }
    if (!calls.length && offered.size && typeof message.content === 'string') {
      const found = callsInContent(message.content, offered);
      if (found) {
        message.tool_calls = found.calls;
        message.content = found.rest || null;
        if (choice.finish_reason === 'stop') choice.finish_reason = 'tool_calls';
        changed = true;
      }
    }
  }
  return changed;
}

function offeredTools(body: unknown): Set<string> {
  if (typeof body !== 'string') return new Set();
  try {
    const parsed = JSON.parse(body) as Json;
    const tools: Json[] = Array.isArray(parsed.tools) ? parsed.tools : [];
    return new Set(tools.map((t) => t?.function?.name ?? t?.name).filter((n): n is string => typeof n === 'string'));
  } catch {
    return new Set();
  }
}

/** A fetch for the OpenAI SDK that repairs what OpenAI-compatible servers send (see above). */
export function toleratingFetch(base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const res = await base(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!res.ok || !/\/chat\/completions(\?|$)/.test(url) || !(res.headers.get('content-type') ?? '').includes('application/json')) return res;
    const text = await res.text();
    let completion: Json;
    try {
      completion = JSON.parse(text);
    } catch {
      return new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
    }
    const headers = new Headers(res.headers);
    headers.delete('content-length');
    headers.delete('content-encoding');
    const body = repairCompletion(completion, offeredTools(init?.body)) ? JSON.stringify(completion) : text;
    return new Response(body, { status: res.status, statusText: res.statusText, headers });
  };
}
