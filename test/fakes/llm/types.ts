/**
 * The vocabulary of the scripted model server: what a test scripts (`ScriptedResponse`)
 * and what the server saw (`FakeLLMRequest`), independent of which wire carried it.
 */

export type Wire = 'openai' | 'anthropic' | 'embeddings';

export interface ScriptedToolCall {
  name: string;
  args: Record<string, unknown>;
  /** Left out, the server makes a unique one in the wire's style (`call_…`, `toolu_…`). */
  id?: string;
}

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
}

export interface FakeMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  toolCalls?: { id: string; name: string; args: Record<string, unknown> }[];
  toolCallId?: string;
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
  toolCalls: { id: string; name: string; args: Record<string, unknown> }[];
  usage: { input: number; output: number };
  model: string;
}
