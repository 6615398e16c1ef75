-- Approval requests: a persona's tool call waiting for a human's `approve <id>` / `deny <id>`.
-- `id` is the short code people type; `tool_call_id` makes asking again idempotent (a run
-- resumed after a crash, or re-run on resume, gets the same request instead of a new one).
-- `args` are stored masked: this table is shown to people.
CREATE TABLE approvals (
  id            text PRIMARY KEY,
  tool_call_id  text NOT NULL UNIQUE,
  thread        text NOT NULL,
  channel       text NOT NULL,
  persona       text NOT NULL,
  tool          text NOT NULL,
  args          jsonb,
  reason        text,
  risk          text NOT NULL,
  status        text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
  requested_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  decided_by    text,
  decided_at    timestamptz,
  -- What the approver added (`deny <id> not on a Friday`).
  decision_note text,
  run_id        text,
  -- The inbound message whose run asked, so the resumed run can answer it.
  inbound_id    text
);
CREATE INDEX approvals_thread_status_idx ON approvals (thread, status);
CREATE INDEX approvals_pending_expiry_idx ON approvals (expires_at) WHERE status = 'pending';
