-- The work ledger: every piece of work the team takes on (a chat request, a GitHub issue, a
-- pull request, a job), who asked for it, who owns it, where it stands, and its history.
-- Written by orchestrator/ledger/.

-- Ids are short and typable in chat ("W-12"); the number comes from a sequence so two
-- processes on one Postgres never hand out the same id.
CREATE SEQUENCE IF NOT EXISTS work_item_number_seq;

CREATE TABLE IF NOT EXISTS work_items (
  id             text PRIMARY KEY DEFAULT ('W-' || nextval('work_item_number_seq')),
  kind           text NOT NULL
                 CHECK (kind IN ('chat_request', 'issue', 'pull_request', 'job')),
  title          text NOT NULL,
  origin_thread  text,
  origin_channel text,
  requested_by   text,
  owner          text,
  reviewers      text[] NOT NULL DEFAULT '{}',
  state          text NOT NULL DEFAULT 'requested'
                 CHECK (state IN ('requested', 'in_progress', 'in_review', 'changes_requested',
                                  'approved', 'merged', 'blocked', 'done')),
  -- Where the work lives outside Pantheon, e.g. gh:owner/repo#12: one item per external thing.
  external_ref   text UNIQUE,
  -- Set by whoever creates the item from a replayable event (a handoff, a webhook), so the
  -- replay finds the item instead of creating a second one.
  dedupe_key     text UNIQUE,
  created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- Last activity of any kind (state change, progress, note): what "newest first" sorts by.
  updated_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- "What's in flight?" is the question asked most; finished items are the long tail.
CREATE INDEX IF NOT EXISTS work_items_in_flight_idx ON work_items (updated_at DESC)
  WHERE state NOT IN ('done', 'merged');
CREATE INDEX IF NOT EXISTS work_items_owner_in_flight_idx ON work_items (owner, updated_at DESC)
  WHERE state NOT IN ('done', 'merged');
CREATE INDEX IF NOT EXISTS work_items_origin_thread_idx ON work_items (origin_thread, updated_at DESC);

-- The history of each item, oldest first by id.
CREATE TABLE IF NOT EXISTS work_item_events (
  id           bigserial PRIMARY KEY,
  work_item_id text NOT NULL REFERENCES work_items (id) ON DELETE CASCADE,
  at           timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor        text NOT NULL,
  kind         text NOT NULL,
  detail       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS work_item_events_item_idx ON work_item_events (work_item_id, id);
