-- LangGraph checkpoints, one row per checkpoint and one per pending write (see
-- orchestrator/checkpoint/pg-saver.ts): a checkpoint costs one statement, not a transaction of many.
CREATE TABLE IF NOT EXISTS graph_checkpoints (
  thread_id text NOT NULL,
  checkpoint_ns text NOT NULL DEFAULT '',
  checkpoint_id text NOT NULL,
  parent_checkpoint_id text,
  type text NOT NULL,
  checkpoint bytea NOT NULL,
  metadata_type text NOT NULL,
  metadata bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
);

CREATE TABLE IF NOT EXISTS graph_writes (
  thread_id text NOT NULL,
  checkpoint_ns text NOT NULL DEFAULT '',
  checkpoint_id text NOT NULL,
  task_id text NOT NULL,
  idx integer NOT NULL,
  task_path text NOT NULL DEFAULT '',
  channel text NOT NULL,
  type text NOT NULL,
  value bytea NOT NULL,
  PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
);

-- A lease row outlives its lease: `clean` says the thread was left with no run pending and nothing
-- paused, so the next process to take it need not read its checkpoint first.
ALTER TABLE thread_leases ADD COLUMN IF NOT EXISTS clean boolean NOT NULL DEFAULT false;
