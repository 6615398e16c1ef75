import { getModelMeta } from 'tokenlens/core';
import { anthropicModels } from 'tokenlens/providers/anthropic';
import { openaiModels } from 'tokenlens/providers/openai';

/**
 * Context windows (tokens) of the models of the built-in providers, from tokenlens's registry (the
 * models.dev catalog, maintained upstream) rather than a table kept by hand. Only the Anthropic and
 * OpenAI catalogs are loaded: a few kilobytes, not the whole registry. A model the registry does
 * not list by name is looked up by its family: a dated id (`claude-sonnet-4-20250514`,
 * `gpt-4.1-mini-2025-04-14`) without its date, and a newer point release (`claude-sonnet-4-5`) as
 * the family it belongs to (`claude-sonnet-4`). Anything else (a model on Ollama, vLLM or another
 * OpenAI-compatible server) gets the conservative UNKNOWN_WINDOW.
 */
const CATALOGS = { anthropic: anthropicModels, openai: openaiModels } as const;

/** Assumed for a model the registry does not know: small enough for most local models' windows. */
export const UNKNOWN_WINDOW = 32_768;

/** History may take at most this share of the window: the rest is the system prompt, recalled memories, tools and the answer. */
const HISTORY_SHARE = 0.5;

/** The context window of `provider:model`, or undefined when the registry does not know it. */
export function contextWindowOf(spec: string): number | undefined {
  const colon = spec.indexOf(':');
  const provider = spec.slice(0, colon);
  const catalog = CATALOGS[provider as keyof typeof CATALOGS];
  if (!catalog) return undefined;
  const known = (model: string) => {
    const limit = getModelMeta({ providers: { [provider]: catalog }, provider, model })?.limit;
    return limit?.input ?? limit?.context;
  };
  const ids = Object.keys(catalog.models);
  // The name as given; then without a date; then one version part shorter at a time (gpt-5.1 → gpt-5, claude-sonnet-4-5 → claude-sonnet-4).
  const given = spec.slice(colon + 1).toLowerCase();
  let model = given.replace(/-(\d{8}|\d{4}-\d{2}-\d{2}|latest)$/, '');
  for (const candidate of new Set([given, model])) {
    const window = known(candidate);
    if (window) return window;
  }
  for (;;) {
    const family = new RegExp(`^${escapeRegExp(model)}(-(\\d{8}|\\d{4}-\\d{2}-\\d{2}|latest))?$`);
    const windows = ids
      .filter((id) => family.test(id))
      .map(known)
      .filter((n): n is number => !!n);
    // The family's smallest window: conservative when its releases differ.
    if (windows.length) return Math.min(...windows);
    const shorter = model.replace(/[-.][^-.]+$/, '');
    if (shorter === model || !shorter.includes('-')) return undefined;
    model = shorter;
  }
}

/** The history budget a persona gets: the configured one, but never more than a safe share of its model's window. */
export function historyBudget(configured: number, spec: string | undefined): number {
  const window = (spec && contextWindowOf(spec)) || UNKNOWN_WINDOW;
  return Math.min(configured, Math.floor(window * HISTORY_SHARE));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
