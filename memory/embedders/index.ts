import type { Embedder } from '../types.js';
import { LexicalEmbedder } from './lexical.js';
import { OpenAIEmbedder } from './openai.js';

export { LexicalEmbedder, tokenize } from './lexical.js';
export { OpenAIEmbedder } from './openai.js';

/** `memory.embedder` in pantheon.yaml, already parsed. */
export interface EmbedderConfig {
  /** `lexical` (default: offline, no model) or `openai` (OpenAI or any OpenAI-compatible `/v1/embeddings`). */
  provider?: 'lexical' | 'openai';
  /** Required for `openai`, e.g. `text-embedding-3-small`, `nomic-embed-text`. */
  model?: string;
  /** An OpenAI-compatible API root, e.g. `http://ollama:11434/v1`; default OPENAI_BASE_URL, then OpenAI. */
  baseUrl?: string;
  dimension?: number;
  /** Default OPENAI_API_KEY. */
  apiKey?: string;
}

/** The configured embedder; environment variables fill in the OpenAI credentials. */
export function createEmbedder(config: EmbedderConfig = {}, env: NodeJS.ProcessEnv = process.env): Embedder {
  const provider = config.provider ?? 'lexical';
  if (provider === 'lexical') return new LexicalEmbedder({ dimension: config.dimension });
  if (provider === 'openai') {
    if (!config.model) throw new Error('memory.embedder.model is required with provider openai (e.g. text-embedding-3-small)');
    return new OpenAIEmbedder({
      model: config.model,
      baseUrl: config.baseUrl ?? (env.OPENAI_BASE_URL || undefined),
      apiKey: config.apiKey ?? (env.OPENAI_API_KEY || undefined),
      dimension: config.dimension,
    });
  }
  throw new Error(`unknown memory.embedder.provider "${String(provider)}": use lexical or openai`);
}
