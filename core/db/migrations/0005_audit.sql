-- The audit log: every tool call a persona makes and every approval decision a human makes.
-- Written by core/audit/. Arguments are stored masked (core/audit/mask.ts), never raw.
CREATE TABLE IF NOT EXISTS audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT clock_timestamp(),
  kind        text NOT NULL CHECK (kind IN ('tool_call', 'approval_decision')),
  persona     text,
  thread      text,
  tool        text,
  args        jsonb,
  -- ok, error, denied, refused_by_policy, expired, approved, denied_by_human, ...: an open list.
  outcome     text NOT NULL,
  approval_id text,
  duration_ms integer,
  -- Who decided (approval decisions): a human id.
  actor       text,
  detail      text
);

CREATE INDEX IF NOT EXISTS audit_log_at_idx ON audit_log (at);
CREATE INDEX IF NOT EXISTS audit_log_persona_at_idx ON audit_log (persona, at);
CREATE INDEX IF NOT EXISTS audit_log_tool_at_idx ON audit_log (tool, at);
CREATE INDEX IF NOT EXISTS audit_log_thread_at_idx ON audit_log (thread, at);
CREATE INDEX IF NOT EXISTS audit_log_approval_id_idx ON audit_log (approval_id) WHERE approval_id IS NOT NULL;

-- Append-only: history cannot be rewritten through ordinary statements. (A superuser can
-- still drop the trigger; this guards against bugs and careless hands, not the DBA.)
CREATE OR REPLACE FUNCTION audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'audit entries are never changed or removed; record a new entry instead';
END;
$$;

DROP TRIGGER IF EXISTS audit_log_no_update_or_delete ON audit_log;
CREATE TRIGGER audit_log_no_update_or_delete
  BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();

DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
CREATE TRIGGER audit_log_no_truncate
  BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
