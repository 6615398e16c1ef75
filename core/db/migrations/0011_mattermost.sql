-- Mattermost catch-up cursors (channels/mattermost/cursors.ts).
--
-- Per channel, the create_at (server milliseconds) of the newest post handed to the ingress.
-- After a socket was deaf or Pantheon was down, each bot asks for the posts of its channels
-- since the cursor; the ingress dedupes what was already taken in.
CREATE TABLE mattermost_cursors (
  channel_id   text PRIMARY KEY,
  last_post_at bigint NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now()
);
