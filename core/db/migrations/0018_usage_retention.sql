-- The team's daily budget sums every persona's usage since 00:00 UTC (orchestrator/budget.ts).
CREATE INDEX IF NOT EXISTS model_usage_created_at_idx ON model_usage (created_at);
