import type pg from 'pg';
import type { Persona } from '../core/config/persona-schema.js';

/** A daily cap: tokens (input and output) and US dollars since 00:00 UTC. */
export interface DailyBudget {
  dailyTokens?: number;
  dailyUsd?: number;
}

const capped = (b: DailyBudget | undefined): b is DailyBudget => !!b && (b.dailyTokens !== undefined || b.dailyUsd !== undefined);

/** Who a model call is for: a persona, or the orchestrator's own (the supervisor, memory summaries), which has no budget of its own. */
export type BudgetHolder = Pick<Persona, 'id' | 'name' | 'budget'>;

/**
 * A model call refused because a budget is spent (thrown by the rolling summary's and the memory
 * summaries' budget checks); `message` names the budget, as shown to people.
 */
export class BudgetSpent extends Error {
  override readonly name = 'BudgetSpent';
}

/**
 * A persona's daily budget (`budget.dailyTokens` / `budget.dailyUsd` in its YAML) and the team's
 * (`orchestrator.budget` in pantheon.yaml), counted from `model_usage` since 00:00 UTC in one
 * statement. Answers the message to show when either is spent, naming the budget, else null.
 * Checked before every model step of a run, not only at its start.
 */
export async function budgetSpent(pool: pg.Pool, persona: BudgetHolder, team?: DailyBudget): Promise<string | null> {
  const own = capped(persona.budget) ? persona.budget : undefined;
  const all = capped(team) ? team : undefined;
  if (!own && !all) return null;
  const { rows } = await pool.query<{ tokens: string | null; usd: string | null; team_tokens: string | null; team_usd: string | null }>(
    `SELECT sum(input_tokens + output_tokens) FILTER (WHERE persona = $1) AS tokens, sum(cost_usd) FILTER (WHERE persona = $1) AS usd,
            sum(input_tokens + output_tokens) AS team_tokens, sum(cost_usd) AS team_usd
       FROM model_usage
      WHERE created_at >= date_trunc('day', now() AT TIME ZONE 'utc') AT TIME ZONE 'utc' AND ($2 OR persona = $1)`,
    [persona.id, !!all],
  );
  const row = rows[0];
  const back = ' is back at 00:00 UTC';
  if (own) {
    const tokens = Number(row?.tokens ?? 0);
    const usd = Number(row?.usd ?? 0);
    const tail = (field: string) => `; ${persona.name}${back}, or raise ${field} in ${persona.id}'s persona file.`;
    if (own.dailyTokens !== undefined && tokens >= own.dailyTokens) {
      return `${persona.name} has used today's budget: ${tokens.toLocaleString('en')} of ${own.dailyTokens.toLocaleString('en')} tokens${tail('budget.dailyTokens')}`;
    }
    if (own.dailyUsd !== undefined && usd >= own.dailyUsd) {
      return `${persona.name} has used today's budget: $${usd.toFixed(2)} of $${own.dailyUsd.toFixed(2)}${tail('budget.dailyUsd')}`;
    }
  }
  if (all) {
    const tokens = Number(row?.team_tokens ?? 0);
    const usd = Number(row?.team_usd ?? 0);
    const tail = (field: string) => `; the team${back}, or raise ${field} in pantheon.yaml.`;
    if (all.dailyTokens !== undefined && tokens >= all.dailyTokens) {
      return `The team has used today's budget: ${tokens.toLocaleString('en')} of ${all.dailyTokens.toLocaleString('en')} tokens, so ${persona.name} stops here${tail('orchestrator.budget.dailyTokens')}`;
    }
    if (all.dailyUsd !== undefined && usd >= all.dailyUsd) {
      return `The team has used today's budget: $${usd.toFixed(2)} of $${all.dailyUsd.toFixed(2)}, so ${persona.name} stops here${tail('orchestrator.budget.dailyUsd')}`;
    }
  }
  return null;
}
