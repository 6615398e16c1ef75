import type { ModelPrice } from './model-config.js';

/**
 * List prices in US dollars per million tokens (standard tier, no caching or batch
 * discounts). Override or extend with `models.pricing` in pantheon.yaml; a model found
 * in neither costs 0, which is right for local servers and merely unknown for others.
 */
const BUILT_IN_PRICES: Record<string, ModelPrice> = {
  'claude-opus-4-5': { inputPerMTok: 5, outputPerMTok: 25 },
  'claude-opus-4-1': { inputPerMTok: 15, outputPerMTok: 75 },
  'claude-opus-4': { inputPerMTok: 15, outputPerMTok: 75 },
  'claude-sonnet-4-5': { inputPerMTok: 3, outputPerMTok: 15 },
  'claude-sonnet-4': { inputPerMTok: 3, outputPerMTok: 15 },
  'claude-3-7-sonnet': { inputPerMTok: 3, outputPerMTok: 15 },
  'claude-haiku-4-5': { inputPerMTok: 1, outputPerMTok: 5 },
  'claude-3-5-haiku': { inputPerMTok: 0.8, outputPerMTok: 4 },
  'gpt-5': { inputPerMTok: 1.25, outputPerMTok: 10 },
  'gpt-5-mini': { inputPerMTok: 0.25, outputPerMTok: 2 },
  'gpt-5-nano': { inputPerMTok: 0.05, outputPerMTok: 0.4 },
  'gpt-4.1': { inputPerMTok: 2, outputPerMTok: 8 },
  'gpt-4.1-mini': { inputPerMTok: 0.4, outputPerMTok: 1.6 },
  'gpt-4.1-nano': { inputPerMTok: 0.1, outputPerMTok: 0.4 },
  'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10 },
  'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6 },
  'o4-mini': { inputPerMTok: 1.1, outputPerMTok: 4.4 },
  o3: { inputPerMTok: 2, outputPerMTok: 8 },
  'o3-mini': { inputPerMTok: 1.1, outputPerMTok: 4.4 },
  'text-embedding-3-small': { inputPerMTok: 0.02, outputPerMTok: 0 },
  'text-embedding-3-large': { inputPerMTok: 0.13, outputPerMTok: 0 },
};

/**
 * The price for a model: an override keyed by `provider:model` or by model, else the
 * built-in table, matching dated ids (`claude-sonnet-4-5-20250929`) by the longest
 * known prefix.
 */
export function priceFor(provider: string, model: string, overrides: Record<string, ModelPrice> = {}): ModelPrice | undefined {
  const exact = overrides[`${provider}:${model}`] ?? overrides[model];
  if (exact) return exact;
  const table = { ...BUILT_IN_PRICES, ...overrides };
  let best: string | undefined;
  for (const key of Object.keys(table)) {
    if ((model === key || model.startsWith(`${key}-`)) && (!best || key.length > best.length)) best = key;
  }
  return best ? table[best] : undefined;
}

export function costUsd(provider: string, model: string, tokens: { input: number; output: number }, overrides?: Record<string, ModelPrice>): number {
  const price = priceFor(provider, model, overrides);
  if (!price) return 0;
  return (tokens.input * price.inputPerMTok + tokens.output * price.outputPerMTok) / 1_000_000;
}
