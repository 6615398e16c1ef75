import type { ServerResponse } from 'node:http';
import { createHmac, randomBytes } from 'node:crypto';
import type { FakeLLMRequest, FakeMessage, ResolvedAnswer } from './types.js';
import { pieces, startSse, writeSse } from './sse.js';
import { argsText, uniqueId } from './script.js';

/**
 * The OpenAI Responses wire (`POST /v1/responses`), as the official SDK speaks it: input items in
 * (messages, `function_call`, `function_call_output`, `reasoning`), output items out (`reasoning`
 * with an id and, when asked, `encrypted_content`; `function_call` with `call_id`; `message` with
 * `output_text`). Like OpenAI it refuses a function call sent back without the reasoning item
 * that preceded it, and a reasoning item it cannot find (not stored, no encrypted content).
 */

type Json = Record<string, any>;

/** OpenAI's reasoning models: they think before every answer, whether or not asked to. */
export const isReasoningModel = (model: string) => /^o\d/.test(model) || (model.startsWith('gpt-5') && !model.startsWith('gpt-5-chat'));

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p: Json) => (typeof p?.text === 'string' ? p.text : '')).join('');
  return '';
}

/** Input items onto the common shape: function calls join the assistant message before them. */
export function normaliseResponses(body: Json): Pick<FakeLLMRequest, 'model' | 'stream' | 'messages' | 'tools'> {
  const messages: FakeMessage[] = [];
  if (typeof body.instructions === 'string' && body.instructions) messages.push({ role: 'system', content: body.instructions });
  const input: Json[] = typeof body.input === 'string' ? [{ type: 'message', role: 'user', content: body.input }] : Array.isArray(body.input) ? body.input : [];
  /** The assistant message the items since the last user or tool message belong to. */
  let open: FakeMessage | undefined;
  const assistant = () => {
    if (!open) {
      open = { role: 'assistant', content: '' };
      messages.push(open);
    }
    return open;
  };
  for (const item of input) {
    const type = item.type ?? 'message';
    if (type === 'message' && item.role === 'assistant') {
      assistant().content += contentText(item.content);
    } else if (type === 'message') {
      open = undefined;
      messages.push({ role: item.role === 'developer' ? 'system' : item.role, content: contentText(item.content) });
    } else if (type === 'reasoning') {
      const a = assistant();
      a.reasoningItems = [...(a.reasoningItems ?? []), String(item.id)];
      const summary = (Array.isArray(item.summary) ? item.summary : []).map((s: Json) => String(s?.text ?? '')).join('');
      if (summary) a.thinking = a.thinking ? `${a.thinking}\n${summary}` : summary;
    } else if (type === 'function_call') {
      const a = assistant();
      let args: Record<string, unknown>;
      try {
        args = JSON.parse(item.arguments || '{}');
      } catch {
        args = { _raw: item.arguments };
      }
      a.toolCalls = [...(a.toolCalls ?? []), { id: item.call_id, name: item.name, args }];
    } else if (type === 'function_call_output') {
      open = undefined;
      messages.push({ role: 'tool', content: typeof item.output === 'string' ? item.output : contentText(item.output), toolCallId: item.call_id });
    }
  }
  const tools: string[] = (Array.isArray(body.tools) ? body.tools : []).map((t: Json) => t.name).filter((n: unknown): n is string => typeof n === 'string');
  return { model: String(body.model ?? ''), stream: body.stream === true, messages, tools };
}

/** What OpenAI answers on this wire when the input does not fit the context window (a 400). */
export function responsesContextOverflow(): Json {
  return {
    error: {
      message: 'Your input exceeds the context window of this model. Please adjust your input and try again.',
      type: 'invalid_request_error',
      param: 'input',
      code: 'context_length_exceeded',
    },
  };
}

/**
 * What the server remembers of its answers, as OpenAI does: which reasoning item preceded each
 * function call, and (for stored responses only) which reasoning items it could look up by id.
 */
export class ReasoningLedger {
  private readonly key = randomBytes(16);
  /** call_id → the function_call item's id and the reasoning item before it. */
  private readonly calls = new Map<string, { fcId: string; reasoningId: string }>();
  private readonly stored = new Set<string>();

  /** The opaque blob OpenAI sends as `encrypted_content`: here the item id, signed. */
  seal(reasoningId: string): string {
    const mac = createHmac('sha256', this.key).update(reasoningId).digest('base64url');
    return Buffer.from(JSON.stringify({ id: reasoningId, mac })).toString('base64');
  }

  private opens(reasoningId: string, blob: unknown): boolean {
    if (typeof blob !== 'string') return false;
    try {
      const { id, mac } = JSON.parse(Buffer.from(blob, 'base64').toString('utf8'));
      return id === reasoningId && mac === createHmac('sha256', this.key).update(reasoningId).digest('base64url');
    } catch {
      return false;
    }
  }

  remember(output: Json[], store: boolean): void {
    let reasoningId: string | undefined;
    for (const item of output) {
      if (item.type === 'reasoning') {
        reasoningId = item.id;
        if (store) this.stored.add(item.id);
      }
      if (item.type === 'function_call' && reasoningId) this.calls.set(item.call_id, { fcId: item.id, reasoningId });
    }
  }

  /** Why OpenAI would refuse this request's input, in its words; undefined: fine. */
  problem(body: Json): string | undefined {
    const input: Json[] = Array.isArray(body.input) ? body.input : [];
    const seen = new Set<string>();
    for (const [i, item] of input.entries()) {
      if (item?.type === 'reasoning') {
        const id = String(item.id ?? '');
        if (item.encrypted_content !== undefined && !this.opens(id, item.encrypted_content)) return `The encrypted content for item ${id} could not be verified.`;
        if (item.encrypted_content === undefined && !this.stored.has(id)) {
          return `Item with id '${id}' not found. Items are not persisted when \`store\` is set to false. Try again with \`store\` set to true, or remove this item from your input.`;
        }
        seen.add(id);
      }
      if (item?.type === 'function_call') {
        const issued = this.calls.get(String(item.call_id));
        if (issued && !seen.has(issued.reasoningId)) {
          return `Item '${item.id ?? issued.fcId}' of type 'function_call' was provided without its required 'reasoning' item: '${issued.reasoningId}'. (input.${i})`;
        }
      }
    }
    return undefined;
  }
}

/** The output items of an answer: reasoning first (reasoning models, or scripted thinking), then the message, then the calls. */
export function responseOutput(a: ResolvedAnswer, body: Json, ledger: ReasoningLedger): Json[] {
  const output: Json[] = [];
  if (a.thinking !== undefined || isReasoningModel(a.model)) {
    const id = uniqueId('rs_');
    const summarise = body.reasoning?.summary != null && a.thinking;
    const include: unknown[] = Array.isArray(body.include) ? body.include : [];
    output.push({
      id,
      type: 'reasoning',
      summary: summarise ? [{ type: 'summary_text', text: a.thinking }] : [],
      ...(include.includes('reasoning.encrypted_content') ? { encrypted_content: ledger.seal(id) } : {}),
    });
  }
  if (a.text) {
    output.push({
      id: uniqueId('msg_'),
      type: 'message',
      status: a.cutOff ? 'incomplete' : 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: a.text, annotations: [], logprobs: [] }],
    });
  }
  for (const c of a.toolCalls) output.push({ id: uniqueId('fc_'), type: 'function_call', status: 'completed', call_id: c.id, name: c.name, arguments: argsText(c) });
  ledger.remember(output, body.store !== false);
  return output;
}

/** A whole Response object around `output`. */
export function responseObject(a: ResolvedAnswer, body: Json, output: Json[]): Json {
  const reasoningTokens = output.some((i) => i.type === 'reasoning') ? Math.max(1, Math.ceil((a.thinking ?? '').length / 4)) : 0;
  return {
    id: uniqueId('resp_'),
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: a.cutOff ? 'incomplete' : 'completed',
    error: null,
    incomplete_details: a.cutOff ? { reason: 'max_output_tokens' } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: a.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: body.reasoning?.summary ?? null },
    store: body.store !== false,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: 1,
    truncation: 'disabled',
    usage: {
      input_tokens: a.usage.input,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: a.usage.output,
      output_tokens_details: { reasoning_tokens: reasoningTokens },
      total_tokens: a.usage.input + a.usage.output,
    },
    user: null,
    metadata: {},
  };
}

/** Streams a Response as OpenAI's typed events: created, each item added/deltas/done, completed. */
export function streamResponse(res: ServerResponse, response: Json, headers: Record<string, string>): void {
  startSse(res, headers);
  let seq = 0;
  const send = (event: Json) => writeSse(res, { ...event, sequence_number: seq++ }, event.type);
  const shell = { ...response, status: 'in_progress', output: [], usage: null, incomplete_details: null };
  send({ type: 'response.created', response: shell });
  send({ type: 'response.in_progress', response: shell });
  (response.output as Json[]).forEach((item, output_index) => {
    if (item.type === 'message') {
      send({ type: 'response.output_item.added', output_index, item: { ...item, status: 'in_progress', content: [] } });
      const text = String(item.content[0]?.text ?? '');
      send({ type: 'response.content_part.added', item_id: item.id, output_index, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
      for (const p of pieces(text)) send({ type: 'response.output_text.delta', item_id: item.id, output_index, content_index: 0, delta: p, logprobs: [] });
      send({ type: 'response.output_text.done', item_id: item.id, output_index, content_index: 0, text, logprobs: [] });
      send({ type: 'response.content_part.done', item_id: item.id, output_index, content_index: 0, part: item.content[0] });
    } else if (item.type === 'function_call') {
      send({ type: 'response.output_item.added', output_index, item: { ...item, status: 'in_progress', arguments: '' } });
      for (const p of pieces(item.arguments)) send({ type: 'response.function_call_arguments.delta', item_id: item.id, output_index, delta: p });
      send({ type: 'response.function_call_arguments.done', item_id: item.id, output_index, arguments: item.arguments });
    } else {
      send({ type: 'response.output_item.added', output_index, item: { ...item, summary: [] } });
    }
    send({ type: 'response.output_item.done', output_index, item });
  });
  send({ type: response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', response });
  res.end();
}
