import type pg from 'pg';
import type { Persona } from '../core/config/persona-schema.js';

/**
 * A persona's daily budget (`budget.dailyTokens` / `budget.dailyUsd` in its YAML), counted from
 * `model_usage` since 00:00 UTC. Answers the message to show when it is spent, else null.
 */
export async function budgetSpent(pool: pg.Pool, persona: Persona): Promise<string | null> {
  const budget = persona.budget;
  if (!budget || (budget.dailyTokens === undefined && budget.dailyUsd === undefined)) return null;
  const { rows } = await pool.query<{ tokens: string | null; usd: string | null }>(
    `SELECT sum(input_tokens + output_tokens) AS tokens, sum(cost_usd) AS usd FROM model_usage
     WHERE persona = $1 AND created_at >= date_trunc('day', now() AT TIME ZONE 'utc') AT TIME ZONE 'utc'`,
    [persona.id],
  );
  const tokens = Number(rows[0]?.tokens ?? 0);
  const usd = Number(rows[0]?.usd ?? 0);
  const tail = `; ${persona.name} is back at 00:00 UTC, or raise budget in ${persona.id}'s persona file.`;
  if (budget.dailyTokens !== undefined && tokens >= budget.dailyTokens) {
    return `${persona.name} has used today's budget: ${tokens.toLocaleString('en')} of ${budget.dailyTokens.toLocaleString('en')} tokens${tail}`;
  }
  if (budget.dailyUsd !== undefined && usd >= budget.dailyUsd) {
    return `${persona.name} has used today's budget: $${usd.toFixed(2)} of $${budget.dailyUsd.toFixed(2)}${tail}`;
  }
  return null;
}
