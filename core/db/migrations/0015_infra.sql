-- Infrastructure jobs (commands on registered hosts over SSH), their logs, and the incidents
-- opened by scheduled checks. Written by tools/infra/. The job row is the source of truth:
-- the queue only carries the job id, so a re-delivered job reads what already happened here.
CREATE TABLE IF NOT EXISTS infra_jobs (
  -- Short and typable in chat: `/cancel j-4f2a9c`.
  id                  text PRIMARY KEY,
  -- The tool call that asked for it: a replayed call finds this job instead of starting another.
  call_key            text UNIQUE,
  persona             text,
  thread              text,
  channel             text,
  host                text NOT NULL,
  command             text NOT NULL,
  -- command | runbook | docker_restart
  kind                text NOT NULL DEFAULT 'command',
  runbook             text,
  step                integer,
  -- Only idempotent jobs are tried again (after a connection failure or a lost worker).
  idempotent          boolean NOT NULL DEFAULT false,
  status              text NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'interrupted')),
  -- The worker running it (host:pid:random) and when that worker last said it is alive.
  owner               text,
  heartbeat_at        timestamptz,
  attempts            integer NOT NULL DEFAULT 0,
  timeout_seconds     integer NOT NULL,
  exit_code           integer,
  signal              text,
  error               text,
  remote_pid          integer,
  cancel_requested_at timestamptz,
  cancelled_by        text,
  work_item_id        text,
  log_lines           integer NOT NULL DEFAULT 0,
  log_dropped         integer NOT NULL DEFAULT 0,
  created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
  started_at          timestamptz,
  finished_at         timestamptz
);

CREATE INDEX IF NOT EXISTS infra_jobs_thread_idx ON infra_jobs (thread, created_at DESC);
CREATE INDEX IF NOT EXISTS infra_jobs_active_idx ON infra_jobs (status, heartbeat_at)
  WHERE status IN ('queued', 'running');

-- Every output line of a job, capped per job (infra.jobs.maxLogLines); already scrubbed of secrets.
CREATE TABLE IF NOT EXISTS infra_job_logs (
  job_id  text NOT NULL REFERENCES infra_jobs (id) ON DELETE CASCADE,
  seq     integer NOT NULL,
  stream  text NOT NULL CHECK (stream IN ('stdout', 'stderr', 'system')),
  line    text NOT NULL,
  at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (job_id, seq)
);

-- A scheduled check that fails opens an incident (posted once); passing again closes it.
CREATE TABLE IF NOT EXISTS infra_incidents (
  id          bigserial PRIMARY KEY,
  check_name  text NOT NULL,
  channel     text NOT NULL,
  detail      text NOT NULL,
  opened_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_seen   timestamptz NOT NULL DEFAULT clock_timestamp(),
  closed_at   timestamptz
);

-- At most one open incident per check: opening twice is a no-op, so a failure posts once.
CREATE UNIQUE INDEX IF NOT EXISTS infra_incidents_open_idx ON infra_incidents (check_name) WHERE closed_at IS NULL;
