-- The GitHub channel's bookkeeping (written by channels/github/).

-- Every signed webhook delivery, keyed by X-GitHub-Delivery: a redelivery hits the primary key
-- and is acknowledged without being processed twice. The payload is the durable copy the
-- queue job reads (the embedded queue lives in memory); `recover()` re-enqueues pending rows.
CREATE TABLE IF NOT EXISTS github_deliveries (
  id           text PRIMARY KEY,
  event        text NOT NULL,
  action       text,
  payload      jsonb NOT NULL,
  status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
  error        text,
  received_at  timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz
);
CREATE INDEX IF NOT EXISTS github_deliveries_pending_idx ON github_deliveries (received_at) WHERE status = 'pending';

-- What one GitHub happening means ("apollo was assigned acme/api#12", "comment 991"), whichever
-- way it arrived (webhook or notifications polling): the first source to claim a key wakes the
-- persona, the other finds it claimed. `source` lets the claiming job retry after a failure.
-- Keys with a window (assignments, review requests) may be claimed again once it has passed.
CREATE TABLE IF NOT EXISTS github_seen (
  key     text PRIMARY KEY,
  source  text NOT NULL,
  seen_at timestamptz NOT NULL DEFAULT now()
);

-- Collaborator permission answers (GET /repos/{o}/{r}/collaborators/{login}/permission),
-- trusted for github.permissionCacheSeconds.
CREATE TABLE IF NOT EXISTS github_permissions (
  repo       text NOT NULL,
  login      text NOT NULL,
  permission text NOT NULL,
  checked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repo, login)
);

-- Comments the team posted, by outbox idempotency key. A row without comment_id is a post that
-- was started: after a crash the adapter looks on GitHub for the hidden marker before posting again.
CREATE TABLE IF NOT EXISTS github_comments (
  idempotency_key text PRIMARY KEY,
  thread          text NOT NULL,
  persona         text,
  comment_id      bigint,
  started_at      timestamptz NOT NULL DEFAULT now(),
  posted_at       timestamptz
);

-- Notifications polling: each persona's Last-Modified, sent back as If-Modified-Since.
CREATE TABLE IF NOT EXISTS github_poll_cursors (
  persona       text PRIMARY KEY,
  last_modified text,
  polled_at     timestamptz NOT NULL DEFAULT now()
);
