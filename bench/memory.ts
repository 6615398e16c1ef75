/**
 * Memory (issue 4): on the embedded PGlite, for each size, insert throughput, recall latency and
 * HNSW recall@10 against exact search.
 *
 *   node --import tsx bench/memory.ts                       # 384 dims at 10k and 100k, 1536 dims at 10k
 *   node --import tsx bench/memory.ts --sizes 10000 --dims 384 [--queries 200] [--exact-queries 100]
 *   --keep-dir D: the database lives in D/<size>x<dims> and is kept; a later run with the same D
 *   reuses it (no insert figures then), for trying query settings without rebuilding the index.
 *
 * Data: synthetic memories of 8-30 words embedded with the lexical embedder, 70% team, 20% in 20
 * personas' scopes, 10% in 200 conversations. A team's memories are about topics, so each
 * memory belongs to one of 1 topic per 20 memories: ~60% of its words come from the topic's 12
 * words, the rest (Zipf-like) from a 3,000-word vocabulary of domain words and made-up
 * identifiers; plus a unique reference. Queries: 3-6 words of one topic, plus a common word.
 * (Texts with no topic at all, uniform word soup, are much harder for HNSW: see the report.)
 * - insert: one MemoryStore.rememberMany of the whole set (embedding, batched inserts; a load this
 *   large drops the HNSW index and builds it at the end), memories/s; then 500 more through
 *   rememberMany in batches of 100 with the index in place (incremental index inserts). Then the
 *   embedded database restarts, as a deployment of that size runs: it sizes its shared buffers
 *   to its data at start (core/db/embedded.ts, `database.sharedBuffers: auto`); printed as such.
 * - recall: MemoryStore.recall (hybrid, scopes team + one persona, limit 10), p50/p95 over the queries.
 * - recall@10: the HNSW scan as recall runs it (iterative scan, scope filter; ef_search 100, 160 (the
 *   store's) and 200) against the exact top 10 from a sequential scan, for the same lexical query
 *   vectors. Ties count: a hit at a distance no worse than the exact 10th is correct. Also how many
 *   of the exact top 10 are among the 50 nearest candidates recall itself fuses (10@50).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { createLogger } from '../core/log.js';
import { createDatabase, migrate } from '../core/db/index.js';
import { LexicalEmbedder, MemoryStore, type MemoryScope, type NewMemory } from '../memory/index.js';
import { vectorLiteral } from '../memory/rows.js';
import { fmt, percentile } from './stats.js';

const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const queries = Number(opt('--queries') ?? 200);
const exactQueries = Number(opt('--exact-queries') ?? 100);
/** ef_search values the recall@10 check tries; the store itself searches with 160. */
const keepDir = opt('--keep-dir');
const efSearches = (opt('--ef') ?? '100,160,200').split(',').map(Number);
const runs: { size: number; dims: number }[] =
  opt('--sizes') || opt('--dims')
    ? (opt('--sizes') ?? '10000,100000').split(',').flatMap((s) => (opt('--dims') ?? '384').split(',').map((d) => ({ size: Number(s), dims: Number(d) })))
    : [
        { size: 10_000, dims: 384 },
        { size: 100_000, dims: 384 },
        { size: 10_000, dims: 1536 },
      ];

/** Deterministic pseudo-random numbers, so runs compare. */
let seed = 42;
const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];

const DOMAIN = (
  'deploy staging production api billing queue worker grafana alert rotate key cron export bucket replica postgres redis ' +
  'kubernetes pod node latency timeout retry backoff webhook github issue review merge branch release rollback migration index vacuum ' +
  'customer invoice payment refund ledger audit approval persona athena apollo hermes rate limit token budget cache cdn dns certificate ' +
  'tls ssh host disk memory cpu incident postmortem runbook oncall pager slack mattermost telegram discord schedule nightly weekly ' +
  'decision preference summary fact owner team repo service endpoint schema column table backup restore snapshot region zone'
).split(' ');
const SYLLABLES = 'ka lo mi nu pe ra si to vu xe zor bel cin dak fum gri hol jex'.split(' ');
const vocabulary = [...DOMAIN];
while (vocabulary.length < 3000) {
  const w = Array.from({ length: 2 + Math.floor(rand() * 3) }, () => pick(SYLLABLES)).join('') + (rand() < 0.2 ? String(Math.floor(rand() * 999)) : '');
  vocabulary.push(w);
}
/** Zipf-ish: low indexes much more often. */
const word = () => vocabulary[Math.floor(vocabulary.length * rand() ** 2.5)];
let topics: string[][] = [];
const topicSentence = (topic: string[], n: number) => Array.from({ length: n }, () => (rand() < 0.6 ? pick(topic) : word())).join(' ');
const sentence = (n: number) => topicSentence(pick(topics), n);

function memoryAt(i: number): NewMemory {
  const r = rand();
  const scope: MemoryScope = r < 0.7 ? 'team' : r < 0.9 ? `persona:p${i % 20}` : `conversation:local:c${i % 200}`;
  const kind = (['fact', 'decision', 'preference', 'summary', 'code_context', 'runbook'] as const)[i % 6];
  return { scope, kind, content: `${sentence(8 + Math.floor(rand() * 23))} ref-${i}`, source: `local:c${i % 200}`, author: `p${i % 20}` };
}

async function bench(size: number, dims: number): Promise<void> {
  const dir = keepDir ? join(keepDir, `${size}x${dims}`) : mkdtempSync(join(tmpdir(), 'pantheon-bench-memory-'));
  const logger = createLogger({ level: 'silent' });
  let db = await createDatabase({ dataDir: dir, logger });
  try {
    await migrate(db.pool, { logger });
    const embedder = new LexicalEmbedder({ dimension: dims });
    let store = new MemoryStore(db.pool, embedder, { logger });
    await store.init();

    seed = 1000 + size + dims;
    topics = Array.from({ length: Math.max(10, size / 20) }, () => Array.from({ length: 12 }, () => pick(vocabulary)));
    const all = Array.from({ length: size }, (_, i) => memoryAt(i));
    const more = Array.from({ length: 500 }, (_, i) => memoryAt(size + i));
    const {
      rows: [{ n: stored }],
    } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM memories');
    let inserts = 'reused';
    if (stored !== size + more.length) {
      if (stored > 0) throw new Error(`${dir} holds ${stored} memories, not ${size + more.length}: remove it`);
      const insertStarted = performance.now();
      await store.rememberMany(all);
      const insertSeconds = (performance.now() - insertStarted) / 1000;
      const incrementalStarted = performance.now();
      for (let i = 0; i < more.length; i += 100) await store.rememberMany(more.slice(i, i + 100));
      const incrementalSeconds = (performance.now() - incrementalStarted) / 1000;
      await db.pool.query('VACUUM ANALYZE memories');
      inserts = `bulk insert ${fmt(size / insertSeconds, 0)}/s (${fmt(insertSeconds, 1)} s incl. index build) | incremental ${fmt(more.length / incrementalSeconds, 0)}/s`;
      // The embedded database sizes its shared buffers to its data when it starts: restart it,
      // as a deployment that has grown to this size runs after its next start.
      await db.close();
      db = await createDatabase({ dataDir: dir, logger });
      store = new MemoryStore(db.pool, embedder, { logger });
      await store.init();
    }
    const {
      rows: [{ shared_buffers: buffers }],
    } = await db.pool.query<{ shared_buffers: string }>('SHOW shared_buffers');

    const texts = Array.from({ length: queries }, () => `${topicSentence(pick(topics), 3 + Math.floor(rand() * 4))} ${word()}`);
    for (const t of texts.slice(0, 5)) await store.recall({ text: t, scopes: ['team', 'persona:p1'] }); // warm up
    const latencies: number[] = [];
    for (const t of texts) {
      const started = performance.now();
      await store.recall({ text: t, scopes: ['team', 'persona:p1'], limit: 10 });
      latencies.push(performance.now() - started);
    }

    const plan = await explainNearest(db.pool, embedder.embedOne(texts[0]));
    console.log(
      `${String(size).padStart(7)} memories × ${String(dims).padStart(4)} dims | ${inserts} | shared buffers ${buffers} | recall p50 ${fmt(percentile(latencies, 50), 1)} ms p95 ${fmt(percentile(latencies, 95), 1)} ms`,
    );
    console.log(`  plan of the vector side: ${plan}`);
    for (const ef of efSearches) {
      const { recallAt10, recall10in50, annMs, annP95, exactMs } = await annRecall(db.pool, embedder, texts.slice(0, exactQueries), ef);
      console.log(
        `  HNSW recall@10 at ef_search ${ef}: ${fmt(recallAt10, 3)}; exact top 10 within recall's 50 candidates: ${fmt(recall10in50, 3)} (ANN p50 ${fmt(annMs, 1)} ms p95 ${fmt(annP95, 1)} ms; exact p50 ${fmt(exactMs, 1)} ms; ${Math.min(exactQueries, texts.length)} queries)`,
      );
    }
  } finally {
    await db.close();
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  }
}

/** The access path the planner picks for recall's vector side, on its own. */
async function explainNearest(pool: pg.Pool, v: number[]): Promise<string> {
  const { rows } = await pool.query<{ 'QUERY PLAN': string }>(
    `EXPLAIN SELECT id FROM memories WHERE scope = ANY($2::text[]) AND archived_at IS NULL AND (expires_at IS NULL OR expires_at > now())
      ORDER BY embedding <=> $1::vector LIMIT 50`,
    [vectorLiteral(v), ['team', 'persona:p1']],
  );
  return rows
    .map((r) => r['QUERY PLAN'].trim())
    .filter((l) => /Scan/.test(l))
    .join(' / ');
}

async function annRecall(pool: pg.Pool, embedder: LexicalEmbedder, texts: string[], ef: number) {
  const client = await pool.connect();
  const ann: number[] = [];
  const exact: number[] = [];
  let found = 0;
  let foundIn50 = 0;
  let expected = 0;
  try {
    for (const t of texts) {
      const q = vectorLiteral(embedder.embedOne(t));
      const scopes = ['team', 'persona:p1'];
      await client.query('BEGIN');
      await client.query(`SET LOCAL hnsw.ef_search = ${ef}; SET LOCAL hnsw.iterative_scan = relaxed_order`);
      let started = performance.now();
      const a = await client.query<{ id: string; d: number }>('SELECT id, embedding <=> $1::vector AS d FROM memories WHERE scope = ANY($2::text[]) ORDER BY embedding <=> $1::vector LIMIT 10', [
        q,
        scopes,
      ]);
      ann.push(performance.now() - started);
      // What recall itself fuses: the 50 nearest candidates (limit 10 × 5).
      const c = await client.query<{ id: string; d: number }>('SELECT id, embedding <=> $1::vector AS d FROM memories WHERE scope = ANY($2::text[]) ORDER BY embedding <=> $1::vector LIMIT 50', [
        q,
        scopes,
      ]);
      started = performance.now();
      const e = await client.query<{ id: string; d: number }>('SELECT id, embedding <=> $1::vector AS d FROM memories WHERE scope = ANY($2::text[]) ORDER BY (embedding <=> $1::vector) + 0 LIMIT 10', [
        q,
        scopes,
      ]);
      exact.push(performance.now() - started);
      await client.query('COMMIT');
      const tenth = e.rows[e.rows.length - 1]?.d ?? Infinity;
      expected += e.rows.length;
      found += Math.min(e.rows.length, a.rows.filter((r) => r.d <= tenth + 1e-6).length);
      foundIn50 += Math.min(e.rows.length, c.rows.filter((r) => r.d <= tenth + 1e-6).length);
    }
  } finally {
    client.release();
  }
  return { recallAt10: found / Math.max(1, expected), recall10in50: foundIn50 / Math.max(1, expected), annMs: percentile(ann, 50), annP95: percentile(ann, 95), exactMs: percentile(exact, 50) };
}

console.log(`memory bench: embedded PGlite, lexical embedder, ${queries} recall queries per size`);
for (const r of runs) await bench(r.size, r.dims);
