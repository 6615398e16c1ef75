-- One row per model call (each attempt, failed ones included): who used which model,
-- how many tokens, what it cost and how long it took. Written by agents/usage.ts.
CREATE TABLE IF NOT EXISTS model_usage (
  id            bigserial PRIMARY KEY,
  run_id        text,
  persona       text NOT NULL,
  provider      text NOT NULL,
  model         text NOT NULL,
  input_tokens  integer NOT NULL DEFAULT 0,
  output_tokens integer NOT NULL DEFAULT 0,
  cost_usd      numeric(14, 8) NOT NULL DEFAULT 0,
  latency_ms    integer NOT NULL DEFAULT 0,
  ok            boolean NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS model_usage_persona_created_at_idx ON model_usage (persona, created_at);
CREATE INDEX IF NOT EXISTS model_usage_run_id_idx ON model_usage (run_id);
