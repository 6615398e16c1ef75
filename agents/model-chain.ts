import type { ModelEnv, ModelsConfig, PersonaModelRef } from './model-config.js';
import { parseModelSpec } from './model-spec.js';

/** What auto-detection picks when only an API key is set. */
const AUTO_DETECT = [
  { envKey: 'ANTHROPIC_API_KEY', model: 'anthropic:claude-sonnet-4-5' },
  { envKey: 'OPENAI_API_KEY', model: 'openai:gpt-4.1-mini' },
] as const;

function set(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v ? v : undefined;
}

/**
 * The models a persona tries, primary first. The primary is the persona's own `model:`,
 * else PANTHEON_MODEL, else `models.default`, else auto-detected from an API key;
 * then the fallbacks (the persona's `fallbackModels`, else `models.fallback`), without repeats.
 */
export function resolveModelChain(persona: PersonaModelRef, models: Pick<ModelsConfig, 'default' | 'fallback' | 'providers'>, env: ModelEnv = process.env): string[] {
  const primary = set(persona.model) ?? set(env.PANTHEON_MODEL) ?? set(models.default) ?? AUTO_DETECT.find((a) => set(env[a.envKey]))?.model;
  if (!primary) {
    throw new Error(
      `No model configured for persona "${persona.id}". Set one of: "model:" in the persona's file, ` +
        'the PANTHEON_MODEL environment variable (e.g. PANTHEON_MODEL=anthropic:claude-sonnet-4-5), ' +
        '"models.default" in pantheon.yaml, or ANTHROPIC_API_KEY / OPENAI_API_KEY to pick a model automatically.',
    );
  }
  const fallbacks = persona.fallbackModels ?? models.fallback ?? [];
  const chain: string[] = [];
  for (const spec of [primary, ...fallbacks]) {
    const name = set(spec);
    if (!name) continue;
    const { provider, model } = parseModelSpec(name, models);
    const canonical = `${provider}:${model}`;
    if (!chain.includes(canonical)) chain.push(canonical);
  }
  return chain;
}
