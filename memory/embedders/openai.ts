import OpenAI from 'openai';
import { registerSecret } from '../../core/log.js';
import type { Embedder } from '../types.js';

export interface OpenAIEmbedderOptions {
  /** e.g. `text-embedding-3-small`, `nomic-embed-text` (Ollama). */
  model: string;
  /** An OpenAI-compatible API root, e.g. `http://localhost:11434/v1` (Ollama); default OpenAI's. */
  baseUrl?: string;
  apiKey?: string;
  /**
   * The vectors' length. Given, it is also sent as `dimensions` (text-embedding-3 models shorten
   * their vectors to it); omitted, it comes from the known OpenAI models and must be set otherwise.
   */
  dimension?: number;
  /** Texts per request (default 128). */
  batchSize?: number;
}

const KNOWN_DIMENSIONS: Record<string, number> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

/** HNSW indexes `vector` columns up to 2000 dimensions in pgvector. */
const MAX_INDEXED_DIMENSION = 2000;

/**
 * Embeddings through OpenAI's `/v1/embeddings` or any server speaking it (Ollama, vLLM, LiteLLM),
 * with the official SDK: batched, retried by the SDK, each answer checked for the expected length.
 */
export class OpenAIEmbedder implements Embedder {
  readonly name: string;
  readonly dimension: number;
  private readonly client: OpenAI;
  private readonly model: string;
  private readonly sendDimensions: boolean;
  private readonly batchSize: number;

  constructor(opts: OpenAIEmbedderOptions) {
    if (!opts.model) throw new Error('the OpenAI embedder needs a model, e.g. text-embedding-3-small');
    const dimension = opts.dimension ?? KNOWN_DIMENSIONS[opts.model];
    if (!dimension) {
      throw new Error(`the embedding model ${opts.model} is not one Pantheon knows the dimension of: set memory.embedder.dimension to its vector length`);
    }
    if (!Number.isInteger(dimension) || dimension < 1 || dimension > MAX_INDEXED_DIMENSION) {
      throw new Error(
        `embedding dimension ${dimension} for ${opts.model} cannot be indexed: pgvector's HNSW index takes up to ${MAX_INDEXED_DIMENSION} dimensions; ` +
          'set memory.embedder.dimension (text-embedding-3 models accept e.g. 1536 or 1024)',
      );
    }
    const apiKey = opts.apiKey || (opts.baseUrl ? 'unused' : undefined);
    if (!apiKey) throw new Error('the OpenAI embedder needs OPENAI_API_KEY (or a baseUrl for a local OpenAI-compatible server such as Ollama)');
    registerSecret(opts.apiKey);
    this.client = new OpenAI({ apiKey, baseURL: opts.baseUrl });
    this.model = opts.model;
    this.name = `openai:${opts.model}`;
    this.dimension = dimension;
    this.sendDimensions = opts.dimension !== undefined;
    this.batchSize = Math.max(1, opts.batchSize ?? 128);
  }

  async embed(texts: string[]): Promise<number[][]> {
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += this.batchSize) {
      // The API refuses empty strings.
      const batch = texts.slice(i, i + this.batchSize).map((t) => (t.trim() === '' ? ' ' : t));
      const res = await this.client.embeddings.create({
        model: this.model,
        input: batch,
        encoding_format: 'float',
        ...(this.sendDimensions ? { dimensions: this.dimension } : {}),
      });
      const data = [...res.data].sort((a, b) => a.index - b.index);
      if (data.length !== batch.length) {
        throw new Error(`the embeddings endpoint returned ${data.length} vectors for ${batch.length} texts (model ${this.model})`);
      }
      for (const d of data) {
        if (d.embedding.length !== this.dimension) {
          throw new Error(
            `the embeddings endpoint returned ${d.embedding.length}-dimensional vectors for ${this.model}, but ${this.dimension} are configured: ` +
              `set memory.embedder.dimension to ${d.embedding.length} (then run \`pantheon memory reembed\`)`,
          );
        }
        out.push(d.embedding);
      }
    }
    return out;
  }
}
