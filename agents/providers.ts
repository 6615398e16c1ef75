import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { ChatAnthropic } from '@langchain/anthropic';
import { ChatOpenAI } from '@langchain/openai';
import { DEFAULT_TIMEOUT_MS, type ModelEnv, type ModelsConfig, type ProviderConfig, type ReasoningConfig } from './model-config.js';
import { parseModelSpec } from './model-spec.js';
import { toleratingFetch } from './openai-compatible.js';

/** Where a provider lives and how to authenticate, settled from config and environment. */
export interface ResolvedProvider {
  name: string;
  type: ProviderConfig['type'];
  baseUrl?: string;
  apiKey: string;
}

/** Servers such as Ollama ignore the key, but the SDKs refuse to start without one. */
const PLACEHOLDER_KEY = 'not-needed';

const OFFICIAL: Record<'anthropic' | 'openai', { baseUrlVar: string; keyVar: string; defaultBaseUrl: string }> = {
  anthropic: { baseUrlVar: 'ANTHROPIC_BASE_URL', keyVar: 'ANTHROPIC_API_KEY', defaultBaseUrl: 'https://api.anthropic.com' },
  openai: { baseUrlVar: 'OPENAI_BASE_URL', keyVar: 'OPENAI_API_KEY', defaultBaseUrl: 'https://api.openai.com/v1' },
};

/**
 * A provider defined under `models.providers` wins over the built-in one of the same name;
 * the built-ins read the official SDK variables from `env`.
 */
export function resolveProvider(name: string, models: Pick<ModelsConfig, 'providers'>, env: ModelEnv): ResolvedProvider {
  const custom = models.providers?.[name];
  if (custom) {
    const official = name === 'anthropic' || name === 'openai' ? OFFICIAL[name] : undefined;
    return {
      name,
      type: custom.type,
      baseUrl: custom.baseUrl ?? (official ? env[official.baseUrlVar] || official.defaultBaseUrl : undefined),
      apiKey: custom.apiKey || (official ? env[official.keyVar] : undefined) || PLACEHOLDER_KEY,
    };
  }
  if (name !== 'anthropic' && name !== 'openai') {
    // parseModelSpec with models already explains this; kept for direct callers.
    parseModelSpec(`${name}:model`, models);
  }
  const official = OFFICIAL[name as 'anthropic' | 'openai'];
  const baseUrl = env[official.baseUrlVar] || official.defaultBaseUrl;
  // A self-hosted server behind OPENAI_BASE_URL (Ollama, vLLM) usually wants no key.
  const apiKey = env[official.keyVar] || (baseUrl !== official.defaultBaseUrl ? PLACEHOLDER_KEY : undefined);
  if (!apiKey) {
    throw new Error(`Models from provider "${name}" need ${official.keyVar}. Set it in the environment, ` + `or define models.providers.${name} with an apiKey in pantheon.yaml.`);
  }
  return { name, type: name as 'anthropic' | 'openai', baseUrl, apiKey };
}

export interface BuildChatModelOptions {
  models: ModelsConfig;
  env?: ModelEnv;
  /**
   * Retries LangChain's own caller makes. 0 by default: the fallback model does the
   * retrying so that Retry-After is honoured exactly (see retry.ts).
   */
  maxRetries?: number;
  /** Use SSE even for `invoke`. `.stream()` streams either way. */
  streaming?: boolean;
  reasoning?: ReasoningConfig;
}

const EFFORT_BUDGET = { minimal: 1024, low: 2048, medium: 8192, high: 16384 } as const;
/** Room for the answer itself beside the thinking budget (Anthropic needs max_tokens above the budget). */
const ANSWER_TOKENS = 8192;

/** Builds the LangChain chat model for one `provider:model` spec. */
export function buildChatModel(spec: string, opts: BuildChatModelOptions): BaseChatModel {
  const env = opts.env ?? process.env;
  const { provider, model } = parseModelSpec(spec, opts.models);
  const p = resolveProvider(provider, opts.models, env);
  const timeout = opts.models.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxRetries = opts.maxRetries ?? 0;
  const reasoning = opts.reasoning;
  if (p.type === 'anthropic') {
    const budget = reasoning?.budgetTokens ?? (reasoning?.effort ? EFFORT_BUDGET[reasoning.effort] : undefined);
    return new ChatAnthropic({
      model,
      apiKey: p.apiKey,
      anthropicApiUrl: p.baseUrl,
      maxRetries,
      ...(budget ? { thinking: { type: 'enabled', budget_tokens: budget }, maxTokens: budget + ANSWER_TOKENS } : {}),
      ...(opts.streaming ? { streaming: true } : {}),
      clientOptions: { timeout },
    });
  }
  const common = {
    model,
    apiKey: p.apiKey,
    timeout,
    maxRetries,
    // `streaming: false` would make ChatOpenAI refuse `.stream()` too; leave it unset.
    ...(opts.streaming ? { streaming: true } : {}),
    streamUsage: true,
  };
  if (usesResponsesApi(p, model, reasoning)) {
    return new ChatOpenAI({
      ...common,
      configuration: { baseURL: p.baseUrl },
      useResponsesApi: true,
      // Stateless, as Pantheon's checkpoint is the conversation: nothing is stored at OpenAI, so each
      // reasoning item comes back encrypted and goes back with the tool results it led to (OpenAI
      // refuses a function call without its reasoning item). LangChain rebuilds the input from the
      // messages (not from the raw output), so repaired tool calls go back as repaired. Not streamed:
      // LangChain's streamed Responses answers (1.5) drop the encrypted content.
      zdrEnabled: true,
      // `reasoning` here, not as the field: LangChain drops that for model names it does not know.
      // A summary is asked for only when shown: some organisations may not request one.
      modelKwargs: {
        include: ['reasoning.encrypted_content'],
        ...(reasoning?.effort || reasoning?.show ? { reasoning: { ...(reasoning.effort ? { effort: reasoning.effort } : {}), ...(reasoning.show ? { summary: 'auto' } : {}) } } : {}),
      },
    });
  }
  return new ChatOpenAI({
    ...common,
    // Ollama, vLLM, LM Studio and llama.cpp send tool calls in shapes of their own: repaired on arrival.
    configuration: { baseURL: p.baseUrl, fetch: toleratingFetch() },
    ...(reasoning?.effort ? { reasoning: { effort: reasoning.effort } } : {}),
    // OpenAI-compatible servers speak Chat Completions, not the Responses API.
    useResponsesApi: false,
  });
}

/** OpenAI's reasoning models, which think before every answer: o1, o3, o4-mini, gpt-5 (not gpt-5-chat). */
const isOpenAIReasoningModel = (model: string): boolean => /^o\d/.test(model) || (model.startsWith('gpt-5') && !model.startsWith('gpt-5-chat'));

/**
 * The Responses API for OpenAI's own reasoning models (provider `openai`), or wherever the persona
 * says `reasoning.api: responses`; Chat Completions otherwise, which every OpenAI-compatible server speaks.
 */
function usesResponsesApi(p: Pick<ResolvedProvider, 'name' | 'type'>, model: string, reasoning?: ReasoningConfig): boolean {
  if (p.type !== 'openai' || reasoning?.api === 'chat') return false;
  return reasoning?.api === 'responses' || (p.name === 'openai' && isOpenAIReasoningModel(model));
}
