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
  /** Scratch for one text's feature counts; embedOne is synchronous, so one table serves every call. */
  private readonly counts = new FeatureCounts();

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

  /**
   * Synchronous form, for callers embedding many texts in a loop (the bench).
   *
   * The features are hashed where they lie in the text, never built as strings: a memory of
   * 70 KB has ~80k features, and building each as a string made ~5 MB of garbage per memory,
   * enough to keep the young generation collecting and promoting whatever was alive (an import's
   * batch) into the old one. The vector is the same as hashing the feature strings
   * (`w\u0001word`, `b\u0001previous word`, `c\u0001abc`; see test/memory/embedders.test.ts).
   */
  embedOne(text: string): number[] {
    const s = fold(text);
    const counts = this.counts;
    counts.clear();
    let prevStart = -1;
    let prevEnd = -1;
    for (let i = 0; i < s.length; ) {
      const first = s.codePointAt(i)!;
      if (!isWordCodePoint(first)) {
        i += first > 0xffff ? 2 : 1;
        continue;
      }
      const start = i;
      i += first > 0xffff ? 2 : 1;
      while (i < s.length) {
        const cp = s.codePointAt(i)!;
        if (!isWordCodePoint(cp)) break;
        i += cp > 0xffff ? 2 : 1;
      }
      const end = i;
      if (!isStopword(s, start, end)) {
        begin(W);
        feedRange(s, start, end);
        counts.add(W, h1, h2, 2 + end - start);
      }
      if (prevStart >= 0) {
        begin(B);
        feedRange(s, prevStart, prevEnd);
        feed(SPACE);
        feedRange(s, start, end);
        counts.add(B, h1, h2, 3 + prevEnd - prevStart + end - start);
      }
      // Character 3-grams of " word ", in UTF-16 code units.
      const last = end - start + 1;
      for (let j = 0; j + 3 <= last + 1; j++) {
        begin(C);
        for (let k = j; k < j + 3; k++) feed(k === 0 || k === last ? SPACE : s.charCodeAt(start + k - 1));
        counts.add(C, h1, h2, 5);
      }
      prevStart = start;
      prevEnd = end;
    }
    const v = new Float64Array(this.dimension);
    for (let e = 0; e < counts.size; e++) {
      const family = counts.family[e];
      const weight = (1 + Math.log(counts.count[e])) * (family === W ? WORD_WEIGHT : family === B ? BIGRAM_WEIGHT : CHAR_WEIGHT);
      const h = avalanche(counts.h1[e]);
      v[(h >>> 1) % this.dimension] += h & 1 ? weight : -weight;
    }
    counts.release();
    let norm = 0;
    for (let i = 0; i < v.length; i++) norm += v[i] * v[i];
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    return Array.from(v, (x) => x * scale);
  }
}

const W = 'w'.charCodeAt(0);
const B = 'b'.charCodeAt(0);
const C = 'c'.charCodeAt(0);
/** Whole words carry most of the signal; fragments catch inflections and identifiers. */
const WORD_WEIGHT = 1;
const BIGRAM_WEIGHT = 0.7;
const CHAR_WEIGHT = 0.25;

/** Lowercased letter/digit runs, diacritics removed ("Café" and "cafe" are one word). */
export function tokenize(text: string): string[] {
  return fold(text).match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Diacritics removed, lowercased: the text whose letter/digit runs are the words. */
function fold(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

const WORD_CHAR = /^[\p{L}\p{N}]$/u;
/** Per BMP code point: 0 not yet asked, 1 a letter or digit, 2 not. */
const bmpWordChars = new Uint8Array(0x10000);

/** Whether a code point is in \p{L} or \p{N}, as the word pattern has it (a lone surrogate is not). */
function isWordCodePoint(cp: number): boolean {
  if (cp < 0x80) return (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a);
  if (cp > 0xffff) return WORD_CHAR.test(String.fromCodePoint(cp));
  let known = bmpWordChars[cp];
  if (known === 0) known = bmpWordChars[cp] = WORD_CHAR.test(String.fromCharCode(cp)) ? 1 : 2;
  return known === 1;
}

const SPACE = 0x20;
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
const CHECK_OFFSET = 0x9747b28c | 0;

/**
 * The hashes of the feature being read: h1 is 32-bit FNV-1a over its UTF-16 code units (the
 * slot and sign come from it, as ever), h2 a second hash. Features are counted apart by h1, h2,
 * family and length instead of by their text: two different features of one text agreeing on all
 * four (a chance of about 2^-64 a pair) would be counted as one. Module state: hashing is
 * synchronous and allocates nothing.
 */
let h1 = FNV_OFFSET;
let h2 = CHECK_OFFSET;

/** Starts a feature: its family letter and the \u0001 separator. */
function begin(family: number): void {
  h1 = FNV_OFFSET;
  h2 = CHECK_OFFSET;
  feed(family);
  feed(1);
}

function feed(unit: number): void {
  h1 = Math.imul(h1 ^ unit, FNV_PRIME);
  h2 = Math.imul(h2 ^ unit, 0x5bd1e995);
  h2 ^= h2 >>> 15;
}

function feedRange(s: string, start: number, end: number): void {
  for (let i = start; i < end; i++) feed(s.charCodeAt(i));
}

/** A final avalanche so the low bit (the sign) and the slot are well mixed. */
function avalanche(fnv: number): number {
  let h = fnv;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/**
 * The distinct features of one text with their counts, in the order first seen (the order the
 * vector's sums are made in): parallel typed arrays and an open-addressing index over them.
 */
class FeatureCounts {
  size = 0;
  family!: Uint8Array;
  h1!: Int32Array;
  h2!: Int32Array;
  length!: Int32Array;
  count!: Int32Array;
  /** Entry + 1 per bucket, 0 for empty; twice the entries' capacity, a power of two. */
  private index!: Int32Array;

  constructor() {
    this.allocate(INITIAL_FEATURES);
  }

  clear(): void {
    if (this.size > 0) this.index.fill(0);
    this.size = 0;
  }

  add(family: number, a: number, b: number, length: number): void {
    if (this.size === this.family.length) this.grow();
    const mask = this.index.length - 1;
    for (let bucket = (a ^ Math.imul(b, 0x27d4eb2d)) & mask; ; bucket = (bucket + 1) & mask) {
      const e = this.index[bucket] - 1;
      if (e < 0) {
        const n = this.size++;
        this.family[n] = family;
        this.h1[n] = a;
        this.h2[n] = b;
        this.length[n] = length;
        this.count[n] = 1;
        this.index[bucket] = n + 1;
        return;
      }
      if (this.h1[e] === a && this.h2[e] === b && this.length[e] === length && this.family[e] === family) {
        this.count[e]++;
        return;
      }
    }
  }

  /** After a text with very many distinct features, gives the memory back instead of keeping it for the next. */
  release(): void {
    if (this.family.length > MAX_KEPT_FEATURES) {
      this.allocate(INITIAL_FEATURES);
      this.size = 0;
    }
  }

  private allocate(capacity: number): void {
    this.family = new Uint8Array(capacity);
    this.h1 = new Int32Array(capacity);
    this.h2 = new Int32Array(capacity);
    this.length = new Int32Array(capacity);
    this.count = new Int32Array(capacity);
    this.index = new Int32Array(capacity * 2);
  }

  private grow(): void {
    const { family, h1, h2, length, count, size } = this;
    this.allocate(family.length * 2);
    this.family.set(family);
    this.h1.set(h1);
    this.h2.set(h2);
    this.length.set(length);
    this.count.set(count);
    const mask = this.index.length - 1;
    for (let e = 0; e < size; e++) {
      let bucket = (this.h1[e] ^ Math.imul(this.h2[e], 0x27d4eb2d)) & mask;
      while (this.index[bucket] !== 0) bucket = (bucket + 1) & mask;
      this.index[bucket] = e + 1;
    }
  }
}

const INITIAL_FEATURES = 1024;
const MAX_KEPT_FEATURES = 1 << 16;

const STOPWORDS = new Set(
  (
    'a an and are as at be been but by do does did for from has have had he her his i if in into is it its ' +
    'me my no not of on or our she so that the their them then there these they this to too us was we were ' +
    'what when where which who why will with would you your'
  ).split(' '),
);

/** Stopwords are short runs of a-z: each packed into a number, so a word is checked without making a string of it. */
const MAX_STOPWORD = Math.max(...[...STOPWORDS].map((w) => w.length));
const STOPWORD_KEYS = new Set([...STOPWORDS].map((w) => packAscii(w, 0, w.length)));

function packAscii(s: string, start: number, end: number): number {
  let key = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x61 || c > 0x7a) return -1;
    key = key * 27 + (c - 0x60);
  }
  return key;
}

function isStopword(s: string, start: number, end: number): boolean {
  if (end - start > MAX_STOPWORD) return false;
  const key = packAscii(s, start, end);
  return key >= 0 && STOPWORD_KEYS.has(key);
}
