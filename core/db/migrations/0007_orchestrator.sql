-- The team graph's bookkeeping: handoffs (for the per-thread hourly cap) and thread leases
-- (one run at a time per thread across worker processes).
CREATE TABLE IF NOT EXISTS handoffs (
  tool_call_id text PRIMARY KEY,
  thread text NOT NULL,
  from_persona text NOT NULL,
  to_persona text NOT NULL,
  message text NOT NULL,
  work_item_id text,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS handoffs_thread_at ON handoffs (thread, at);

CREATE TABLE IF NOT EXISTS thread_leases (
  thread text PRIMARY KEY,
  owner text NOT NULL,
  expires_at timestamptz NOT NULL
);

-- Inbound messages waiting for a paused thread (an approval pending) are held, not lost.
ALTER TABLE inbound_messages DROP CONSTRAINT IF EXISTS inbound_messages_status_check;
ALTER TABLE inbound_messages ADD CONSTRAINT inbound_messages_status_check
  CHECK (status IN ('pending', 'processing', 'held', 'done', 'failed'));
CREATE INDEX IF NOT EXISTS inbound_messages_thread_status ON inbound_messages (conversation, status, received_at);
