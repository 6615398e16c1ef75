import type { Embedder } from '../types.js';

/**
 * The offline default embedder: no model, no network, deterministic.
 *
 * It is LEXICAL, not semantic: two texts come out close when they share words, word pairs and
 * character fragments ("deploy" / "deployment", "rate limit" / "rate-limiting"), not when they
 * mean the same thing in different words ("car" and "automobile" are unrelated to it). It makes
 * memory work out of the box; configure an OpenAI or OpenAI-compatible embedder (Ollama, vLLM)
 * for recall by meaning.
 *
 * How: feature hashing. Each text yields word unigrams (stopwords dropped), word bigrams and
 * character 3-grams of each word; every feature is hashed to one of `dimension` slots with a
 * hashed sign (so collisions cancel out on average instead of piling up), weighted by
 * 1 + ln(term frequency) and by its family, and the vector is L2-normalised so cosine distance
 * compares wording regardless of length.
 */
export class LexicalEmbedder implements Embedder {
  readonly name = 'lexical-hash-v1';
  readonly dimension: number;

  constructor(opts: { dimension?: number } = {}) {
    const dimension = opts.dimension ?? 384;
    if (!Number.isInteger(dimension) || dimension < 16 || dimension > 2000) {
      throw new Error(`the lexical embedder's dimension must be an integer from 16 to 2000, got ${dimension}`);
    }
    this.dimension = dimension;
  }

  async embed(texts: string[]): Promise<number[][]> {
    return texts.map((t) => this.embedOne(t));
  }

  /** Synchronous form, for callers embedding many texts in a loop (the bench). */
  embedOne(text: string): number[] {
    const counts = new Map<string, number>();
    const add = (feature: string) => counts.set(feature, (counts.get(feature) ?? 0) + 1);
    const words = tokenize(text);
    let previous: string | undefined;
    for (const word of words) {
      const stop = STOPWORDS.has(word);
      if (!stop) add(`w\u0001${word}`);
      if (previous !== undefined) add(`b\u0001${previous} ${word}`);
      previous = word;
      const padded = ` ${word} `;
      for (let i = 0; i + 3 <= padded.length; i++) add(`c\u0001${padded.slice(i, i + 3)}`);
    }
    const v = new Float64Array(this.dimension);
    for (const [feature, tf] of counts) {
      const family = feature.charCodeAt(0);
      const weight = (1 + Math.log(tf)) * (family === W ? WORD_WEIGHT : family === B ? BIGRAM_WEIGHT : CHAR_WEIGHT);
      const h = fnv1a(feature);
      v[(h >>> 1) % this.dimension] += h & 1 ? weight : -weight;
    }
    let norm = 0;
    for (let i = 0; i < v.length; i++) norm += v[i] * v[i];
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    return Array.from(v, (x) => x * scale);
  }
}

const W = 'w'.charCodeAt(0);
const B = 'b'.charCodeAt(0);
/** Whole words carry most of the signal; fragments catch inflections and identifiers. */
const WORD_WEIGHT = 1;
const BIGRAM_WEIGHT = 0.7;
const CHAR_WEIGHT = 0.25;

/** Lowercased letter/digit runs, diacritics removed ("Café" and "cafe" are one word). */
export function tokenize(text: string): string[] {
  return (
    text
      .normalize('NFKD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

/** 32-bit FNV-1a over UTF-16 code units: fast, stable across runs and platforms. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // A final avalanche so the low bit (the sign) and the slot are well mixed.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

const STOPWORDS = new Set(
  (
    'a an and are as at be been but by do does did for from has have had he her his i if in into is it its ' +
    'me my no not of on or our she so that the their them then there these they this to too us was we were ' +
    'what when where which who why will with would you your'
  ).split(' '),
);
