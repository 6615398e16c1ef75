-- The model's id of each audited tool call: the console shows a call with its result, which the
-- thread's transcript (the checkpoint's tool messages) keys by this id. Older entries have none.
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS tool_call_id text;
CREATE INDEX IF NOT EXISTS audit_log_tool_call_id_idx ON audit_log (tool_call_id) WHERE tool_call_id IS NOT NULL;
