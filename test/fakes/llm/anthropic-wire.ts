import type { ServerResponse } from 'node:http';
import type { FakeLLMRequest, FakeMessage, ResolvedAnswer } from './types.js';
import { pieces, startSse, writeSse } from './sse.js';
import { createHmac, randomBytes } from 'node:crypto';
import { argsText, uniqueId } from './script.js';

/** The Anthropic Messages wire, as the official SDK speaks it. */

type Json = Record<string, any>;

function blocksToText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((b: Json) => (b?.type === 'text' ? String(b.text ?? '') : typeof b === 'string' ? b : '')).join('');
  }
  return '';
}

/**
 * Maps Anthropic's shape onto the common one: `system` becomes a system message,
 * `tool_use` blocks become toolCalls, each `tool_result` block becomes a tool message.
 */
export function normaliseAnthropic(body: Json): Pick<FakeLLMRequest, 'model' | 'stream' | 'messages' | 'tools'> {
  const messages: FakeMessage[] = [];
  const system = blocksToText(body.system);
  if (system) messages.push({ role: 'system', content: system });
  for (const m of Array.isArray(body.messages) ? body.messages : []) {
    const blocks: Json[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : Array.isArray(m.content) ? m.content : [];
    for (const r of blocks.filter((b) => b.type === 'tool_result')) {
      messages.push({ role: 'tool', content: blocksToText(r.content), toolCallId: r.tool_use_id });
    }
    const rest = blocks.filter((b) => b.type !== 'tool_result');
    const uses = rest.filter((b) => b.type === 'tool_use');
    if (rest.length === 0) continue;
    const msg: FakeMessage = { role: m.role, content: blocksToText(rest) };
    if (uses.length > 0) msg.toolCalls = uses.map((u) => ({ id: u.id, name: u.name, args: u.input ?? {} }));
    const thinking = rest.filter((b) => b.type === 'thinking').map((b) => String(b.thinking ?? ''));
    if (thinking.length) msg.thinking = thinking.join('\n');
    messages.push(msg);
  }
  const tools: string[] = (Array.isArray(body.tools) ? body.tools : []).map((t: Json) => t.name).filter((n: unknown): n is string => typeof n === 'string');
  return { model: String(body.model ?? ''), stream: body.stream === true, messages, tools };
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

/** Anthropic's error body: `{ type: "error", error: { type, message } }`. */
export function anthropicError(status: number, message: string): Json {
  const type = ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  return { type: 'error', error: { type, message }, request_id: uniqueId('req_fake') };
}

/** The secret the fake signs thinking blocks with, as Anthropic does, so it can tell a block it wrote. */
const THINKING_KEY = randomBytes(16);
export const signThinking = (thinking: string) => createHmac('sha256', THINKING_KEY).update(thinking).digest('base64');

/**
 * What Anthropic refuses when extended thinking is on: a budget under 1024 or not below
 * `max_tokens`, a thinking block whose signature it did not make, and a tool loop whose last
 * assistant turn does not start with its thinking block (the API needs it back). Undefined: fine.
 */
export function thinkingProblem(body: Json): string | undefined {
  if (body.thinking?.type !== 'enabled') return undefined;
  const budget = Number(body.thinking.budget_tokens);
  if (!(budget >= 1024)) return 'thinking.budget_tokens: Input should be greater than or equal to 1024';
  if (!(Number(body.max_tokens) > budget)) return '`max_tokens` must be greater than `thinking.budget_tokens`.';
  const messages: Json[] = Array.isArray(body.messages) ? body.messages : [];
  for (const [i, m] of messages.entries()) {
    for (const b of Array.isArray(m.content) ? m.content : []) {
      if (b?.type === 'thinking' && b.signature !== signThinking(String(b.thinking ?? ''))) return `messages.${i}.content: Invalid \`signature\` in \`thinking\` block`;
    }
  }
  const last = messages.at(-1);
  const inToolLoop = Array.isArray(last?.content) && last.content.some((b: Json) => b?.type === 'tool_result');
  const i = messages.findLastIndex((m) => m.role === 'assistant');
  const first = i >= 0 && Array.isArray(messages[i]!.content) ? messages[i]!.content[0] : undefined;
  if (inToolLoop && first?.type !== 'thinking' && first?.type !== 'redacted_thinking') {
    return (
      `messages.${i}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${first?.type ?? 'text'}\`. When \`thinking\` is enabled, a final \`assistant\` message must start ` +
      'with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns.'
    );
  }
  return undefined;
}

/** The wire's words for a request longer than the context window (a 400). */
export const ANTHROPIC_CONTEXT_OVERFLOW = 'prompt is too long: 208913 tokens > 200000 maximum';

const stopReason = (a: ResolvedAnswer) => (a.cutOff ? 'max_tokens' : a.toolCalls.length ? 'tool_use' : 'end_turn');

function contentBlocks(a: ResolvedAnswer): Json[] {
  const blocks: Json[] = [];
  if (a.thinking !== undefined) blocks.push({ type: 'thinking', thinking: a.thinking, signature: signThinking(a.thinking) });
  if (a.text) blocks.push({ type: 'text', text: a.text });
  for (const c of a.toolCalls) blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: c.rawArgs ?? c.args });
  return blocks;
}

export function anthropicMessage(a: ResolvedAnswer): Json {
  return {
    id: uniqueId('msg_fake'),
    type: 'message',
    role: 'assistant',
    model: a.model,
    content: contentBlocks(a),
    stop_reason: stopReason(a),
    stop_sequence: null,
    usage: { input_tokens: a.usage.input, output_tokens: a.usage.output },
  };
}

/** Streams message_start, one content block per text/tool_use, message_delta, message_stop. */
export function streamAnthropicMessage(res: ServerResponse, a: ResolvedAnswer, headers: Record<string, string>): void {
  startSse(res, headers);
  const id = uniqueId('msg_fake');
  writeSse(
    res,
    {
      type: 'message_start',
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model: a.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        // Anthropic sends a small placeholder here; LangChain adds it to message_delta's
        // count, so 0 keeps scripted totals exact.
        usage: { input_tokens: a.usage.input, output_tokens: 0 },
      },
    },
    'message_start',
  );
  writeSse(res, { type: 'ping' }, 'ping');
  let index = 0;
  if (a.thinking !== undefined) {
    writeSse(res, { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } }, 'content_block_start');
    for (const p of pieces(a.thinking)) writeSse(res, { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: p } }, 'content_block_delta');
    writeSse(res, { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: signThinking(a.thinking) } }, 'content_block_delta');
    writeSse(res, { type: 'content_block_stop', index }, 'content_block_stop');
    index += 1;
  }
  if (a.text) {
    writeSse(res, { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }, 'content_block_start');
    for (const p of pieces(a.text)) {
      writeSse(res, { type: 'content_block_delta', index, delta: { type: 'text_delta', text: p } }, 'content_block_delta');
    }
    writeSse(res, { type: 'content_block_stop', index }, 'content_block_stop');
    index += 1;
  }
  for (const c of a.toolCalls) {
    writeSse(res, { type: 'content_block_start', index, content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} } }, 'content_block_start');
    for (const p of pieces(argsText(c))) {
      writeSse(res, { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: p } }, 'content_block_delta');
    }
    writeSse(res, { type: 'content_block_stop', index }, 'content_block_stop');
    index += 1;
  }
  writeSse(
    res,
    {
      type: 'message_delta',
      delta: { stop_reason: stopReason(a), stop_sequence: null },
      usage: { output_tokens: a.usage.output },
    },
    'message_delta',
  );
  writeSse(res, { type: 'message_stop' }, 'message_stop');
  res.end();
}
