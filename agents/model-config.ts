/**
 * The slices of configuration the model layer reads. The config loader (core/config)
 * builds the full shapes with zod; these interfaces name only what agents/ relies on,
 * so agents/ does not depend on the loader.
 */

/** The part of a persona that picks its model. */
export interface PersonaModelRef {
  id: string;
  /** `provider:model`, e.g. `anthropic:claude-sonnet-4-5`. */
  model?: string;
  /** Tried in order when the primary fails after its retries. */
  fallbackModels?: string[];
  reasoning?: ReasoningConfig;
}

/**
 * How a persona's model thinks before it answers. `budgetTokens` turns on Anthropic extended
 * thinking (its thinking blocks go back to the API with the tool results, as it requires);
 * `effort` is OpenAI's reasoning effort (also the budget's default: low 2048, medium 8192, high 16384).
 * OpenAI's reasoning models (o-series, gpt-5) are called through the Responses API, whose reasoning
 * items go back with the tool results; `api` overrides that choice for any OpenAI-type provider.
 */
export interface ReasoningConfig {
  effort?: 'minimal' | 'low' | 'medium' | 'high';
  budgetTokens?: number;
  /** `responses`: OpenAI's Responses API (reasoning items kept across tool calls); `chat`: Chat Completions with `reasoning_effort`. */
  api?: 'responses' | 'chat';
  /** Post the model's thinking with its answer. */
  show?: boolean;
}

/** A named model server: an OpenAI-compatible one (Ollama, vLLM, LM Studio) or an Anthropic-compatible one. */
export interface ProviderConfig {
  type: 'openai' | 'anthropic';
  baseUrl?: string;
  apiKey?: string;
}

/** Price per million tokens, in US dollars. */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
}

/** `models:` in pantheon.yaml. */
export interface ModelsConfig {
  default?: string;
  fallback?: string[];
  /** Per-request timeout; 60000 when left out. */
  timeoutMs?: number;
  /** Retries on 429 / 5xx / connection errors per model before falling back; 2 when left out. */
  maxRetries?: number;
  providers?: Record<string, ProviderConfig>;
  /** Keyed by model name (`gpt-4.1-mini`) or full spec (`openai:gpt-4.1-mini`). */
  pricing?: Record<string, ModelPrice>;
}

/** Environment variables the model layer reads; tests pass their own instead of mutating process.env. */
export type ModelEnv = Record<string, string | undefined>;

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RETRIES = 2;
