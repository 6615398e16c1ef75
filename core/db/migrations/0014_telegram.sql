-- Telegram access beyond `channels.telegram.allowedChatIds` / `allowedUserIds`: a chat nobody
-- allowed gets a short pairing code (and no agent run); `pantheon pairing approve <code>`
-- approves it. At most one code is pending per chat; an expired one is replaced on the next message.
CREATE TABLE telegram_pairings (
  code          text PRIMARY KEY,
  chat_id       bigint NOT NULL,
  chat_type     text,
  chat_title    text,
  -- Who wrote first from that chat, shown by `pantheon pairing list`.
  user_id       bigint,
  user_name     text,
  status        text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'approved', 'expired')),
  requested_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  -- When the chat was last told its code: repeated messages are answered at most once a minute.
  reminded_at   timestamptz NOT NULL DEFAULT now(),
  approved_at   timestamptz,
  approved_by   text
);
CREATE UNIQUE INDEX telegram_pairings_pending_chat_idx ON telegram_pairings (chat_id) WHERE status = 'pending';

-- Chats approved by pairing; the team answers there like in an allowlisted chat.
CREATE TABLE telegram_approved_chats (
  chat_id      bigint PRIMARY KEY,
  chat_type    text,
  chat_title   text,
  code         text,
  approved_at  timestamptz NOT NULL DEFAULT now(),
  approved_by  text
);
