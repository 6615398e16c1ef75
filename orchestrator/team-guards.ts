import type pg from 'pg';
import type { Persona } from '../core/config/persona-schema.js';
import type { WorkLedger } from '../ledger/index.js';
import { SUPERVISOR_ID } from '../core/chat/supervisor.js';
import { budgetSpent, type BudgetHolder, type DailyBudget } from './budget.js';
import type { TeamGuards } from './graph/team-graph.js';
import { turnInfo } from './graph/state.js';

const ORCHESTRATOR: BudgetHolder = { id: SUPERVISOR_ID, name: 'Pantheon' };

/** The team graph's loop guards and bookkeeping, in Postgres. */
export function pgTeamGuards(deps: {
  pool: pg.Pool;
  ledger: WorkLedger;
  personas: ReadonlyMap<string, Persona>;
  maxTurnsPerMessage: number;
  maxHandoffsPerHour: number;
  teamBudget?: DailyBudget;
}): TeamGuards {
  const { pool, ledger } = deps;
  return {
    maxTurnsPerMessage: deps.maxTurnsPerMessage,
    maxHandoffsPerHour: deps.maxHandoffsPerHour,
    async handoffsInLastHour(threadId) {
      const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM handoffs WHERE thread = $1 AND at > now() - interval '1 hour'`, [threadId]);
      return Number(rows[0]?.n ?? 0);
    },
    async recordHandoff(state, handoff) {
      const turn = turnInfo(state.turn);
      const thread = turn?.threadId ?? '';
      // A handoff is a request for work: it enters the ledger, owned by the receiver.
      const { item } = await ledger.ensure({
        kind: 'chat_request',
        title: handoff.message.replace(/\s+/g, ' ').slice(0, 140),
        originThread: thread,
        originPlatform: turn?.platform,
        requestedBy: turn?.requestedBy,
        owner: handoff.to,
        state: 'in_progress',
        dedupeKey: `handoff:${handoff.toolCallId}`,
        actor: handoff.from,
      });
      await pool.query(
        `INSERT INTO handoffs (tool_call_id, thread, from_persona, to_persona, message, work_item_id)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tool_call_id) DO NOTHING`,
        [handoff.toolCallId, thread, handoff.from, handoff.to, handoff.message, item.id],
      );
      return { workItem: item.id };
    },
    async budgetSpent(personaId) {
      // The orchestrator's own calls (the supervisor, memory summaries) have no budget of their own, but count against the team's.
      const persona = deps.personas.get(personaId) ?? (personaId === SUPERVISOR_ID ? ORCHESTRATOR : undefined);
      return persona ? budgetSpent(pool, persona, deps.teamBudget) : null;
    },
  };
}
