import type { ModelsConfig } from './model-config.js';

/** A model named `provider:model`. The model part may itself hold colons (`ollama:llama3.1:8b`). */
export interface ModelSpec {
  provider: string;
  model: string;
}

const BUILT_IN_PROVIDERS = ['anthropic', 'openai'] as const;

const PROVIDER_NAME = /^[a-z][a-z0-9_-]*$/i;

/**
 * Splits `provider:model` at the first colon. With `models` given, also checks the
 * provider is built in or defined under `models.providers`.
 */
export function parseModelSpec(spec: string, models?: Pick<ModelsConfig, 'providers'>): ModelSpec {
  const text = typeof spec === 'string' ? spec.trim() : '';
  const colon = text.indexOf(':');
  const provider = colon > 0 ? text.slice(0, colon) : '';
  const model = colon > 0 ? text.slice(colon + 1).trim() : '';
  if (!provider || !model || !PROVIDER_NAME.test(provider)) {
    throw new Error(
      `Model ${JSON.stringify(spec)} is not in provider:model form; ` + 'write e.g. "anthropic:claude-sonnet-4-5", "openai:gpt-4.1-mini" or "<name>:<model>" for a provider under models.providers.',
    );
  }
  if (models && !isKnownProvider(provider, models)) {
    const defined = Object.keys(models.providers ?? {});
    throw new Error(
      `Model ${JSON.stringify(spec)} names provider "${provider}", which is neither built in (${BUILT_IN_PROVIDERS.join(', ')}) ` +
        `nor defined under models.providers in pantheon.yaml${defined.length ? ` (defined: ${defined.join(', ')})` : ''}. ` +
        `Add models.providers.${provider}: { type: openai, baseUrl: ... } for an OpenAI-compatible server.`,
    );
  }
  return { provider, model };
}

function isKnownProvider(provider: string, models: Pick<ModelsConfig, 'providers'>): boolean {
  return (BUILT_IN_PROVIDERS as readonly string[]).includes(provider) || Boolean(models.providers?.[provider]);
}
