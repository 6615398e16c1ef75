-- Console sign-in (web/): one-time login links and the sessions they open. Only SHA-256 digests
-- of the link tokens and session ids are stored: a copy of the database signs nobody in.

CREATE TABLE IF NOT EXISTS console_login_links (
  token_hash  text PRIMARY KEY,
  human       text NOT NULL,
  -- Who asked for it: `operator` (pantheon login-link) or `chat:<platform>` (/login).
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX IF NOT EXISTS console_login_links_expires_at_idx ON console_login_links (expires_at);

CREATE TABLE IF NOT EXISTS console_sessions (
  id_hash      text PRIMARY KEY,
  human        text NOT NULL,
  -- Sent back by the console in X-CSRF-Token on every request that changes something.
  csrf_token   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  ended_at     timestamptz
);
CREATE INDEX IF NOT EXISTS console_sessions_expires_at_idx ON console_sessions (expires_at);
