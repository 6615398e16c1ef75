import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createEmbedder, LexicalEmbedder, OpenAIEmbedder, tokenize } from '../../memory/index.js';
import { fakeEmbedding, startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';

const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
const norm = (a: number[]) => Math.sqrt(cosine(a, a));

describe('LexicalEmbedder', () => {
  test('is deterministic, unit length, and of the configured dimension', async () => {
    const e = new LexicalEmbedder({ dimension: 128 });
    assert.equal(e.name, 'lexical-hash-v1');
    const [a, b] = await e.embed(['Deploys go out on Tuesdays', 'Deploys go out on Tuesdays']);
    assert.equal(a.length, 128);
    assert.deepEqual(a, b);
    assert.ok(Math.abs(norm(a) - 1) < 1e-9);
    assert.equal(new LexicalEmbedder().dimension, 384);
    assert.throws(() => new LexicalEmbedder({ dimension: 4 }), /dimension must be an integer from 16 to 2000/);
  });

  test('puts similar wording close and unrelated wording far (lexical, not semantic)', async () => {
    const e = new LexicalEmbedder();
    const [q, near, inflected, far, synonym] = await e.embed([
      'rate limiting on the API gateway',
      'We added rate limiting to the API gateway last week',
      'the gateway rate-limits API calls',
      'Grafana dashboards moved to the new monitoring host',
      'throttling requests at the edge proxy',
    ]);
    assert.ok(cosine(q, near) > 0.5, `shared words: ${cosine(q, near)}`);
    assert.ok(cosine(q, inflected) > cosine(q, far) + 0.2, 'inflections share character fragments');
    assert.ok(cosine(q, far) < 0.15, `unrelated: ${cosine(q, far)}`);
    assert.ok(cosine(q, synonym) < 0.15, 'same meaning in other words is NOT close: the embedder is lexical');
  });

  test('ignores case and accents; punctuation-only text is the zero vector', async () => {
    const e = new LexicalEmbedder();
    const [a, b, z] = await e.embed(['Café Déploiement', 'cafe deploiement', '?!']);
    assert.deepEqual(a, b);
    assert.ok(z.every((x) => x === 0));
  });
});

/**
 * The lexical embedder as first written: every feature built as a string and counted in a Map.
 * The embedder hashes features in place now (no strings: an import of long memories made
 * megabytes of garbage per memory), and must give the very same vectors: stored ones are compared
 * with new ones, and the embedder's name says they match.
 */
function referenceLexical(text: string, dimension: number): number[] {
  const fnv1a = (s: string) => {
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    return h >>> 0;
  };
  const stop = new Set(
    (
      'a an and are as at be been but by do does did for from has have had he her his i if in into is it its ' +
      'me my no not of on or our she so that the their them then there these they this to too us was we were ' +
      'what when where which who why will with would you your'
    ).split(' '),
  );
  const counts = new Map<string, number>();
  const add = (f: string) => counts.set(f, (counts.get(f) ?? 0) + 1);
  let previous: string | undefined;
  for (const word of tokenize(text)) {
    if (!stop.has(word)) add(`w\u0001${word}`);
    if (previous !== undefined) add(`b\u0001${previous} ${word}`);
    previous = word;
    const padded = ` ${word} `;
    for (let i = 0; i + 3 <= padded.length; i++) add(`c\u0001${padded.slice(i, i + 3)}`);
  }
  const v = new Float64Array(dimension);
  for (const [f, tf] of counts) {
    const weight = (1 + Math.log(tf)) * (f[0] === 'w' ? 1 : f[0] === 'b' ? 0.7 : 0.25);
    const h = fnv1a(f);
    v[(h >>> 1) % dimension] += h & 1 ? weight : -weight;
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  return Array.from(v, (x) => x * scale);
}

describe('LexicalEmbedder gives the vectors of feature strings', () => {
  test('bit for bit, on text of every kind', () => {
    let seed = 7;
    const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const units = [...'abcdefghijklmnopqrstuvwxyz   ABCXYZ0123456789éèüßçÅ-_.,!?\n\t中文😀𝐀\u0301\uD800'];
    const words = 'the and of rate limit deploy api gateway it is a an to we you would which'.split(' ');
    const texts = [
      '',
      '?!',
      'a',
      'the',
      'Deploys go out on Tuesdays',
      'Café Déploiement',
      'rate-limiting on the API gateway; x-ray 2.0',
      'Ünïcödé ẞtraße ǅemal ﬁle ① ²³ Ⅻ',
      'emoji 😀 then 𝐀𝐁𝐂 and 𝟙𝟚, a lone \uD800 surrogate \uDC00x',
      '中文 文本 日本語のテキスト 한국어',
      'Ελληνικά κείμενο, Русский текст, עברית, العربية',
      'would where which there these their them',
      // Thousands of distinct features: the counting table grows.
      Array.from({ length: 3000 }, (_, i) => `word${i} w${i % 7}x${i}`).join(' '),
      'alpha bravo charlie delta echo foxtrot golf hotel india juliet '.repeat(200),
    ];
    for (let i = 0; i < 300; i++) texts.push(Array.from({ length: Math.floor(random() * 200) }, () => units[Math.floor(random() * units.length)]).join(''));
    for (let i = 0; i < 200; i++) texts.push(Array.from({ length: Math.floor(random() * 100) }, () => words[Math.floor(random() * words.length)]).join(' '));
    for (const dimension of [16, 384, 1536]) {
      const e = new LexicalEmbedder({ dimension });
      for (const t of texts) assert.deepEqual(e.embedOne(t), referenceLexical(t, dimension), `${dimension} dimensions: ${JSON.stringify(t.slice(0, 60))}`);
    }
  });
});

describe('OpenAIEmbedder over the OpenAI embeddings wire', () => {
  let fake: FakeLLM;
  before(async () => {
    fake = await startFakeLLM();
  });
  after(async () => {
    await fake.close();
  });

  test('batches texts, asks for the configured dimension and returns the vectors in order', async () => {
    fake.clear();
    const e = new OpenAIEmbedder({ model: 'nomic-embed-text', baseUrl: fake.openaiBaseUrl, apiKey: 'sk-test', dimension: 64, batchSize: 2 });
    assert.equal(e.name, 'openai:nomic-embed-text');
    assert.equal(e.dimension, 64);
    const texts = ['one', 'two', 'three', 'four', ''];
    const vectors = await e.embed(texts);
    assert.deepEqual(
      vectors.slice(0, 4),
      texts.slice(0, 4).map((t) => fakeEmbedding(t, 64)),
    );
    assert.equal(vectors[4].length, 64, 'an empty text is sent as a space (the API refuses empty strings)');
    const calls = fake.requests.filter((r) => r.wire === 'embeddings');
    assert.equal(calls.length, 3, '5 texts in batches of 2');
    assert.equal((calls[0].body as { dimensions?: number }).dimensions, 64);
    assert.equal((calls[0].body as { model?: string }).model, 'nomic-embed-text');
  });

  test('a server answering another length is refused with the fix', async () => {
    // Not sending `dimensions`, the fake answers 384; text-embedding-3-small is known as 1536.
    const e = new OpenAIEmbedder({ model: 'text-embedding-3-small', baseUrl: fake.openaiBaseUrl, apiKey: 'sk-test' });
    assert.equal(e.dimension, 1536);
    await assert.rejects(e.embed(['x']), /returned 384-dimensional vectors for text-embedding-3-small, but 1536 are configured: set memory\.embedder\.dimension to 384/);
  });

  test('names what is missing', () => {
    assert.throws(() => new OpenAIEmbedder({ model: 'mxbai-embed-large', baseUrl: fake.openaiBaseUrl }), /set memory\.embedder\.dimension/);
    assert.throws(() => new OpenAIEmbedder({ model: 'text-embedding-3-large', apiKey: 'k' }), /up to 2000.*set memory\.embedder\.dimension/);
    assert.throws(() => new OpenAIEmbedder({ model: 'text-embedding-3-small' }), /needs OPENAI_API_KEY/);
  });
});

describe('createEmbedder', () => {
  test('defaults to the lexical embedder', () => {
    const e = createEmbedder({}, {});
    assert.ok(e instanceof LexicalEmbedder);
    assert.equal(createEmbedder({ provider: 'lexical', dimension: 256 }, {}).dimension, 256);
  });

  test('builds an OpenAI-compatible embedder from config and environment', async () => {
    const fake = await startFakeLLM();
    try {
      const e = createEmbedder({ provider: 'openai', model: 'text-embedding-3-small', dimension: 32 }, { OPENAI_API_KEY: 'sk-env', OPENAI_BASE_URL: fake.openaiBaseUrl });
      assert.equal(e.name, 'openai:text-embedding-3-small');
      const [v] = await e.embed(['hello']);
      assert.deepEqual(v, fakeEmbedding('hello', 32));
      assert.match(String(fake.requests[0].headers?.authorization ?? ''), /Bearer sk-env/);
    } finally {
      await fake.close();
    }
    assert.throws(() => createEmbedder({ provider: 'openai' }, {}), /memory\.embedder\.model is required/);
    assert.throws(() => createEmbedder({ provider: 'cohere' as never }, {}), /unknown memory\.embedder\.provider "cohere"/);
  });
});
