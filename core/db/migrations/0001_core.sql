-- The foundation's tables: what came in, what was said, what must go out, and each agent run.
-- pgvector is NOT required here (a plain Postgres must be able to run this); the memory
-- feature adds its own migration for the vector extension.

-- One row per inbound chat message or webhook event. The id is the platform's dedupe key,
-- so a redelivered event hits the primary key instead of being processed twice.
CREATE TABLE inbound_messages (
  id           text PRIMARY KEY,
  channel      text NOT NULL,
  conversation text,
  author       text,
  text         text,
  payload      jsonb,
  status       text NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'processing', 'done', 'failed')),
  error        text,
  received_at  timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz
);
CREATE INDEX inbound_messages_status_idx ON inbound_messages (status);

-- The transcript of every conversation, in the order messages were stored. `seq` gives a
-- total order that timestamps cannot (two messages in the same microsecond).
CREATE TABLE chat_messages (
  id           text PRIMARY KEY,
  conversation text NOT NULL,
  role         text NOT NULL CHECK (role IN ('user', 'agent', 'system')),
  author       text,
  persona      text,
  text         text,
  reply_to     text,
  created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  seq          bigserial
);
CREATE INDEX chat_messages_conversation_seq_idx ON chat_messages (conversation, seq);

-- Everything a persona posts goes through here first; the idempotency key makes a retried
-- send a no-op instead of a duplicate message on the platform.
CREATE TABLE outbox (
  idempotency_key text PRIMARY KEY,
  channel         text NOT NULL,
  conversation    text,
  persona         text,
  payload         jsonb,
  status          text NOT NULL DEFAULT 'pending',
  attempts        integer NOT NULL DEFAULT 0,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz,
  result          jsonb
);
CREATE INDEX outbox_status_idx ON outbox (status);

-- One row per persona agent run, tied to the inbound message that started it.
CREATE TABLE runs (
  id           text PRIMARY KEY,
  conversation text,
  persona      text,
  inbound_id   text,
  status       text NOT NULL DEFAULT 'running',
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  error        text
);
CREATE INDEX runs_conversation_idx ON runs (conversation);
CREATE INDEX runs_inbound_id_idx ON runs (inbound_id);
