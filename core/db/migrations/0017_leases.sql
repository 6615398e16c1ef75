-- One owner at a time for each connection that must be single across replicas (a bot's socket
-- or poller, GitHub polling, summaries): core/leases/. `token` grows by one at every change of
-- owner, so a write from a replica that lost the lease can be refused (fencing).
CREATE TABLE IF NOT EXISTS leases (
  name        text PRIMARY KEY,
  owner       text NOT NULL,
  token       bigint NOT NULL,
  expires_at  timestamptz NOT NULL,
  acquired_at timestamptz NOT NULL DEFAULT now()
);
