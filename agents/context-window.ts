/**
 * Input context windows (tokens) of the common models, by family, as their providers publish them.
 * Used to keep a persona's history budget to a safe share of its model's window. A model not
 * listed here (a local model on Ollama or vLLM) is trusted with the configured budget.
 */
const WINDOWS: Array<[provider: string, pattern: RegExp, tokens: number]> = [
  ['anthropic', /^claude-(opus|sonnet|haiku)-4/, 200_000],
  ['anthropic', /^claude-3/, 200_000],
  ['anthropic', /^claude-/, 200_000],
  ['openai', /^gpt-5/, 272_000],
  ['openai', /^gpt-4\.1/, 1_047_576],
  ['openai', /^(gpt-4o|chatgpt-4o|gpt-4\.5)/, 128_000],
  ['openai', /^gpt-4-turbo|^gpt-4-\d{4}-preview/, 128_000],
  ['openai', /^gpt-4-32k/, 32_768],
  ['openai', /^gpt-4/, 8_192],
  ['openai', /^gpt-3\.5-turbo/, 16_385],
  ['openai', /^o1-mini/, 128_000],
  ['openai', /^o[1-9]/, 200_000],
];

/** The input window of `provider:model`, or undefined when it is not known. */
function contextWindowOf(spec: string): number | undefined {
  const colon = spec.indexOf(':');
  const provider = spec.slice(0, colon);
  const model = spec.slice(colon + 1);
  return WINDOWS.find(([p, pattern]) => p === provider && pattern.test(model))?.[2];
}

/** History may take at most this share of the window: the rest is the system prompt, recalled memories, tools and the answer. */
const HISTORY_SHARE = 0.5;

/** The history budget a persona gets: the configured one, but never more than a safe share of its model's window. */
export function historyBudget(configured: number, spec: string | undefined): number {
  const window = spec ? contextWindowOf(spec) : undefined;
  return window ? Math.min(configured, Math.floor(window * HISTORY_SHARE)) : configured;
}
