import { MEMORY_SELECT } from './rows.js';

/** Memories looked at per query word; a word found in as many counts as common. */
const TERM_CAP = 200;

/** Reciprocal rank fusion's constant: 1/(k + rank), k = 60 as in Cormack et al. */
const RRF_K = 60;

/** Candidates each side (vector, full text) contributes before fusion. */
export function candidateCount(limit: number): number {
  return Math.min(200, Math.max(50, limit * 5));
}

/**
 * One statement for hybrid recall. Parameters:
 * $1 query vector, $2 scopes, $3 kinds or null, $4 include archived, $5 candidates per side,
 * $6 query text, $7 limit, $8 recency half-life in days.
 *
 * - `nearest`: cosine top-K. ORDER BY `embedding <=> $1` LIMIT K on the table itself, filters in
 *   the same WHERE, so Postgres walks the HNSW index and filters as it goes (with pgvector 0.8's
 *   iterative scan it keeps walking until K rows pass the filters).
 * - `matching`: full text over the stored `content_tsv` (GIN), word by word: for each of the
 *   query's lexemes (english stemming, stopwords dropped), up to TERM_CAP memories holding it. A
 *   memory scores the sum of its words' rarity, ln(1 + cap / memories found for the word): a rare
 *   identifier found in 1 memory weighs 5.3, a word found in the cap or more 0.7. ANDing the words
 *   (websearch_to_tsquery) would make a natural-language message match nothing, and ranking every
 *   memory holding a common word (ts_rank_cd over an OR query) costs a scan of a large share of the
 *   table at 100k memories; this costs at most TERM_CAP rows a word and ranks rare words first.
 * - fusion: the sum of 1/(60 + rank) over both lists, times a recency weight (1 just used or
 *   written, 0.975 after one half-life, towards 0.95) and a use weight (1 + 0.01·ln(1 + uses)).
 *
 * The weights are deliberately gentle. With k = 60, first place in both lists beats second
 * place in both by only 1.6%, so a stronger weight would let one earlier recall outrank a better
 * match. As they are, they reorder near-ties and move a memory a few places at most: relevance
 * first, then what the team uses and touched lately.
 */
/** How much of the score recency can take away (unused for ever: × 0.95). */
const RECENCY_SPAN = 0.05;
/** Use weight per ln(1 + access count): 10 uses ≈ +2.4%, 100 ≈ +4.6%. */
const USE_WEIGHT = 0.01;
export const HYBRID_RECALL_SQL = `
WITH nearest AS (
  SELECT id, row_number() OVER (ORDER BY dist, id) AS rank FROM (
    SELECT id, embedding <=> $1::vector AS dist
      FROM memories
     WHERE scope = ANY($2::text[])
       AND ($3::text[] IS NULL OR kind = ANY($3::text[]))
       AND ($4::boolean OR archived_at IS NULL)
       AND (expires_at IS NULL OR expires_at > now())
     ORDER BY embedding <=> $1::vector
     LIMIT $5
  ) v
),
terms AS (
  SELECT lexeme, quote_literal(lexeme)::tsquery AS q FROM unnest(to_tsvector('english', $6))
),
found AS (
  SELECT t.lexeme, h.id
    FROM terms t
    CROSS JOIN LATERAL (
      SELECT id FROM memories
       WHERE content_tsv @@ t.q
         AND scope = ANY($2::text[])
         AND ($3::text[] IS NULL OR kind = ANY($3::text[]))
         AND ($4::boolean OR archived_at IS NULL)
         AND (expires_at IS NULL OR expires_at > now())
       LIMIT ${TERM_CAP}
    ) h
),
rarity AS (
  SELECT lexeme, ln(1 + ${TERM_CAP}.0 / count(*)) AS weight FROM found GROUP BY lexeme
),
matching AS (
  SELECT id, row_number() OVER (ORDER BY weight DESC, id) AS rank FROM (
    SELECT f.id, sum(r.weight) AS weight
      FROM found f JOIN rarity r USING (lexeme)
     GROUP BY f.id
     ORDER BY weight DESC, f.id
     LIMIT $5
  ) t
),
fused AS (
  SELECT id, sum(1.0 / (${RRF_K} + rank)) AS rrf
    FROM (SELECT id, rank FROM nearest UNION ALL SELECT id, rank FROM matching) c
   GROUP BY id
)
SELECT ${MEMORY_SELECT},
       (f.rrf
         * (${1 - RECENCY_SPAN} + ${RECENCY_SPAN} * power(0.5, greatest(extract(epoch FROM now() - coalesce(a.accessed_at, m.created_at)), 0) / 86400.0 / $8::float8))
         * (1 + ${USE_WEIGHT} * ln(1 + coalesce(a.access_count, 0))))::float8 AS score
  FROM fused f JOIN memories m ON m.id = f.id LEFT JOIN memory_access a ON a.memory_id = m.id
 ORDER BY score DESC, m.id
 LIMIT $7`;
