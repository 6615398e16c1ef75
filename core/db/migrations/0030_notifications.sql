-- Notices to humans (orchestrator/notify/): each one once per key and person. A notice that
-- arrives during the person's quiet hours is `held` until `deliver_after`, then goes out with
-- the others held for them as one digest.
CREATE TABLE IF NOT EXISTS notifications (
  key           text NOT NULL,
  human         text NOT NULL,
  kind          text NOT NULL,
  text          text NOT NULL,
  status        text NOT NULL CHECK (status IN ('held', 'sent', 'dropped')),
  thread        text,
  created_at    timestamptz NOT NULL,
  deliver_after timestamptz,
  sent_at       timestamptz,
  PRIMARY KEY (key, human)
);
CREATE INDEX IF NOT EXISTS notifications_held_idx ON notifications (human, deliver_after) WHERE status = 'held';

-- Escalation of unanswered approvals: who has been asked so far (human ids, and `#<thread>` for
-- an escalation channel), when the next step is due, and how many steps were taken.
ALTER TABLE approvals ADD COLUMN IF NOT EXISTS asked text[] NOT NULL DEFAULT '{}';
ALTER TABLE approvals ADD COLUMN IF NOT EXISTS escalate_at timestamptz;
ALTER TABLE approvals ADD COLUMN IF NOT EXISTS escalations integer NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS approvals_escalation_idx ON approvals (escalate_at) WHERE status = 'pending';
