-- Retention (orchestrator/retention.ts). One pruning pass at a time across replicas: a row lease
-- (advisory locks are not usable through the embedded database, whose connections share one session).
CREATE TABLE IF NOT EXISTS maintenance_leases (
  name         text PRIMARY KEY,
  owner        text NOT NULL,
  expires_at   timestamptz NOT NULL,
  last_done_at timestamptz
);

-- Audit entries stay append-only, except for the retention pass (retention.auditDays), which
-- deletes old entries in a statement that sets pantheon.audit_retention for itself alone.
CREATE OR REPLACE FUNCTION audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('pantheon.audit_retention', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'audit entries are never changed or removed; record a new entry instead';
END;
$$;

CREATE INDEX IF NOT EXISTS infra_jobs_finished_idx ON infra_jobs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_conversation_idx ON outbox (conversation);
