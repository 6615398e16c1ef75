-- The team's shared memory (memory/store.ts).
--
-- No pgvector here, on purpose: the `embedding vector(N)` column and its HNSW index are added by
-- MemoryStore.init(), because (1) their dimension is the configured embedder's, recorded in
-- memory_meta and changed by `pantheon memory reembed`, and (2) a Postgres without pgvector must
-- still run Pantheon (memory then reports itself unavailable, saying pgvector is required).
-- Everything below works on any Postgres 13+.

CREATE TABLE memories (
  id           text PRIMARY KEY,
  scope        text NOT NULL CHECK (scope = 'team' OR scope ~ '^(persona|conversation|repo):.+'),
  kind         text NOT NULL CHECK (kind IN ('fact', 'decision', 'preference', 'summary', 'code_context', 'runbook')),
  content      text NOT NULL CHECK (length(content) > 0),
  metadata     jsonb NOT NULL DEFAULT '{}'::jsonb,
  source       text,
  author       text,
  dedupe_key   text UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz,
  archived_at  timestamptz,
  -- Stored so full-text ranking reads it instead of re-parsing every candidate's content.
  content_tsv  tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED
);

CREATE INDEX memories_scope_kind ON memories (scope, kind);
CREATE INDEX memories_created ON memories (created_at DESC, id DESC);
CREATE INDEX memories_expires ON memories (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX memories_fts ON memories USING gin (content_tsv);

-- When and how often recall returned a memory (a row appears on first use; none means never used,
-- accessed at creation). Kept out of `memories` because recall bumps these on every search: an
-- update of a wide memories row rarely fits its page, and each such update re-inserts the row into
-- the HNSW index (about 4 ms each on PGlite); these narrow rows update in place.
CREATE TABLE memory_access (
  memory_id    text PRIMARY KEY REFERENCES memories(id) ON DELETE CASCADE,
  accessed_at  timestamptz NOT NULL DEFAULT now(),
  access_count integer NOT NULL DEFAULT 0 CHECK (access_count >= 0)
) WITH (fillfactor = 70);

-- One row: the embedder the stored vectors came from. Searching with another one would compare
-- vectors from different spaces, so a mismatch stops recall until `pantheon memory reembed`.
CREATE TABLE memory_meta (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  embedder   text NOT NULL,
  dimension  integer NOT NULL CHECK (dimension > 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);
