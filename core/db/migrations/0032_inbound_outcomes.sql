-- How a turn ended for the inbound messages it answered (orchestrator/turn/thread-sql.ts):
-- `done`, `failed` (the run failed, or a persona it addressed could not answer; `error` holds what
-- the chat was told), or `paused` on an approval until the run resumes. A schedule's persona turn
-- reads its outcome here (orchestrator/schedules/). `paused` is not waiting to be routed: the
-- resumed run marks the message again.
ALTER TABLE inbound_messages DROP CONSTRAINT IF EXISTS inbound_messages_status_check;
ALTER TABLE inbound_messages ADD CONSTRAINT inbound_messages_status_check
  CHECK (status IN ('pending', 'processing', 'held', 'paused', 'done', 'failed'));
