-- Schedules (orchestrator/schedules/). One row per schedule: how far its occurrences have been
-- looked at (`checked_through`, by the process's clock) and whether it is failing (a failure is
-- reported once, and once more when it passes again).
CREATE TABLE IF NOT EXISTS schedule_state (
  name            text PRIMARY KEY,
  checked_through timestamptz NOT NULL,
  failing         boolean NOT NULL DEFAULT false,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One row per occurrence run (or skipped): the primary key makes each occurrence run once,
-- whichever replica gets there first. `manual` runs (`pantheon schedules run`) use the time asked.
CREATE TABLE IF NOT EXISTS schedule_runs (
  schedule    text NOT NULL,
  occurrence  timestamptz NOT NULL,
  trigger     text NOT NULL CHECK (trigger IN ('cron', 'missed', 'manual')),
  status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ok', 'failed', 'skipped')),
  detail      text,
  owner       text,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz,
  PRIMARY KEY (schedule, occurrence)
);
CREATE INDEX IF NOT EXISTS schedule_runs_latest_idx ON schedule_runs (schedule, started_at DESC);
