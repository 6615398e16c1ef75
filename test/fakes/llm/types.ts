/**
 * The vocabulary of the scripted model server: what a test scripts (`ScriptedResponse`)
 * and what the server saw (`FakeLLMRequest`), independent of which wire carried it.
 */

/** `responses` is OpenAI's Responses API (`POST /v1/responses`), the wire of its reasoning items. */
export type Wire = 'openai' | 'responses' | 'anthropic' | 'embeddings';

export interface ScriptedToolCall {
  name: string;
  args?: Record<string, unknown>;
  /**
   * The arguments exactly as sent on the wire, instead of `args` as JSON: for arguments that are
   * not valid JSON (`'{"repo": "acme'`, a call cut off mid-way). On the Anthropic wire a stream
   * sends them as the `partial_json` deltas; a whole message sends the string as `input`.
   */
  rawArgs?: string;
  /** Left out, the server makes a unique one in the wire's style (`call_…`, `toolu_…`). */
  id?: string;
}

/**
 * How OpenAI-compatible servers get tool calls wrong, each as the server sends it:
 * - `ollama`: `function.arguments` as a JSON object instead of a string;
 * - `llamacpp`: tool calls without an `id`;
 * - `vllm`: no `tool_calls` at all, the calls inside the content as `<tool_call>{…}</tool_call>`
 *   (a Hermes-style model served without a tool parser), finish_reason `stop`;
 * - `lmstudio`: the calls inside the content as `[TOOL_REQUEST]{…}[END_TOOL_REQUEST]`.
 */
export const QUIRKS = ['ollama', 'llamacpp', 'vllm', 'lmstudio'] as const;
export type Quirk = (typeof QUIRKS)[number];

/** One scripted answer. With `status` >= 400 it is an error in the platform's own JSON shape. */
export interface ScriptedResponse {
  text?: string;
  toolCalls?: ScriptedToolCall[];
  status?: number;
  error?: string;
  /** Extra response headers, e.g. `{ 'retry-after': '1' }`. */
  headers?: Record<string, string>;
  /** Wait this long before answering (before the first byte, for streams too). */
  delayMs?: number;
  /** Token counts reported; left out, they are estimated from the text (chars / 4). */
  usage?: { input: number; output: number };
  /** Model name echoed back; left out, the requested model. */
  model?: string;
  /** The answer hit the output limit: `finish_reason: "length"` (OpenAI), `stop_reason: "max_tokens"` (Anthropic). */
  cutOff?: boolean;
  /**
   * The request is longer than the model's context window: a 400 in the wire's own words
   * (OpenAI `context_length_exceeded`, Anthropic "prompt is too long").
   */
  contextOverflow?: boolean;
  /** Send the headers and part of the body, then drop the connection (a reset mid-stream). */
  dropConnection?: boolean;
  /**
   * Anthropic extended thinking: a signed `thinking` block before the answer. Only answered when
   * the request enabled thinking; the server then checks that thinking blocks come back signed.
   * On the Responses wire: a `reasoning` item (reasoning models always send one), its summary this
   * text when the request asked for summaries. Chat Completions: `reasoning_content` (vLLM, DeepSeek).
   */
  thinking?: string;
  /** This response's wire quirk (else the server's own mode, see `setQuirk`). */
  quirk?: Quirk | 'none';
}

export interface FakeMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  toolCalls?: { id: string; name: string; args: Record<string, unknown> }[];
  toolCallId?: string;
  /** The thinking blocks an assistant message carried back (Anthropic), or its reasoning items' summaries (Responses). */
  thinking?: string;
  /** The ids of the reasoning items sent back before this assistant turn (Responses). */
  reasoningItems?: string[];
}

/** A request as the server saw it, normalised across wires. */
export interface FakeLLMRequest {
  wire: Wire;
  path: string;
  model: string;
  stream: boolean;
  messages: FakeMessage[];
  /** Names of the tools offered to the model. */
  tools: string[];
  headers: Record<string, string | string[] | undefined>;
  /** The raw parsed JSON body. */
  body: unknown;
  /** Date.now() when the request arrived. */
  at: number;
}

export type Responder = (req: FakeLLMRequest) => ScriptedResponse | Promise<ScriptedResponse>;

/** A scripted response made concrete: ids fixed, usage and model settled. */
export interface ResolvedAnswer {
  text: string;
  toolCalls: { id: string; name: string; args: Record<string, unknown>; rawArgs?: string }[];
  usage: { input: number; output: number };
  model: string;
  cutOff: boolean;
  thinking?: string;
  quirk?: Quirk;
}
