import type { PartialPolicy, Policy, PolicyDecision, RiskClass } from '../core/config/policy.js';

export type { PolicyDecision };

/**
 * Whether a tool call runs (`allow`), waits for a human (`ask`) or is refused (`deny`).
 *
 * The most specific rule wins: a rule naming the tool beats a rule about its risk class, and
 * the persona's own rule beats the team's at the same level. So a persona can be trusted with
 * one tool the team keeps under approval, and a team can forbid one tool whatever a persona's
 * risk overrides say:
 *
 *   1. persona `policy.tools[name]`
 *   2. team    `policy.tools[name]`
 *   3. persona `policy.risk[risk]`
 *   4. team    `policy.risk[risk]` (always set: the schema fills in the defaults)
 */
export function decide(tool: { name: string; risk: RiskClass; alwaysAsk?: boolean }, team: Pick<Policy, 'risk' | 'tools'>, persona?: PartialPolicy): PolicyDecision {
  const decision = byPolicy(tool, team, persona);
  // Some tools (merging a PR) always wait for a human: the policy may forbid them, never waive the approval.
  return tool.alwaysAsk && decision === 'allow' ? 'ask' : decision;
}

function byPolicy(tool: { name: string; risk: RiskClass }, team: Pick<Policy, 'risk' | 'tools'>, persona?: PartialPolicy): PolicyDecision {
  return (
    own(persona?.tools, tool.name) ??
    own(team.tools, tool.name) ??
    own(persona?.risk, tool.risk) ??
    own(team.risk, tool.risk) ??
    // A risk class the team policy does not know waits for a human rather than running.
    'ask'
  );
}

/** A record's own entry (a tool named `constructor` must not find Object's). */
function own<K extends string>(record: Partial<Record<K, PolicyDecision>> | undefined, key: K): PolicyDecision | undefined {
  return record && Object.hasOwn(record, key) ? record[key] : undefined;
}
