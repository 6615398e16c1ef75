import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { resolveModelChain } from '../agents/model-chain.js';
import type { LoadedConfig } from '../core/config/index.js';
import { usageReport, type Usage, type UsageLine } from '../ledger/usage.js';

/** How recently a persona must have called its model or a tool to count as running. */
const RUNNING_WINDOW_SECONDS = 60;

/** A daily budget; null where none is set. */
export interface Budget {
  dailyTokens: number | null;
  dailyUsd: number | null;
}

/** A persona as the Team view shows it. */
export interface TeamPersona {
  id: string;
  name: string;
  role: string;
  description: string;
  lens: string | null;
  /** Null when no model is configured (the doctor says what to set). */
  model: string | null;
  fallbackModels: string[];
  tools: string[];
  /** The platforms it has a handle on; never the handle's tokens. */
  handles: { platform: string }[];
  github: { login: string } | null;
  status: 'idle' | 'running' | 'waiting_for_approval';
  activeThreads: string[];
  pendingApprovals: number;
  today: Usage;
  budget: Budget;
}

/** `GET /api/personas` (docs/api.md). */
export interface TeamAnswer {
  personas: TeamPersona[];
  team: { today: Usage; budget: Budget };
  since: string;
}

/**
 * `GET /api/personas`: the team as the console's Team view shows it: each persona's role,
 * model, handles per platform (never their tokens), status, and today's use against its budget.
 */
export function registerTeamRoutes(app: FastifyInstance, opts: { pool: pg.Pool; loaded: LoadedConfig; env: NodeJS.ProcessEnv }): void {
  const { pool, loaded } = opts;
  const { config } = loaded;

  app.get('/api/personas', async (): Promise<TeamAnswer> => {
    const [usage, activity] = await Promise.all([
      usageReport(pool, { days: 1, threads: 0 }),
      pool.query<{ persona: string; waiting: number; running: boolean; threads: string[] }>(
        `WITH waiting AS (SELECT persona, count(*)::int AS n, array_agg(DISTINCT thread) AS threads FROM approvals
                           WHERE status = 'pending' AND expires_at > now() GROUP BY persona),
              called AS (SELECT DISTINCT persona FROM model_usage WHERE created_at > now() - make_interval(secs => $1)),
              tooled AS (SELECT persona, array_agg(DISTINCT thread) AS threads FROM audit_log
                          WHERE kind = 'tool_call' AND at > now() - make_interval(secs => $1) AND persona IS NOT NULL GROUP BY persona)
         SELECT p.persona, coalesce(w.n, 0) AS waiting,
                (p.persona IN (SELECT persona FROM called) OR t.persona IS NOT NULL) AS running,
                coalesce(w.threads, '{}') || coalesce(t.threads, '{}') AS threads
           FROM unnest($2::text[]) AS p(persona)
           LEFT JOIN waiting w ON w.persona = p.persona LEFT JOIN tooled t ON t.persona = p.persona`,
        [RUNNING_WINDOW_SECONDS, loaded.personas.map((p) => p.id)],
      ),
    ]);
    const used = new Map(usage.personas.map((u) => [u.key, u]));
    const act = new Map(activity.rows.map((r) => [r.persona, r]));
    const today = (u: UsageLine | undefined): Usage => ({ calls: u?.calls ?? 0, inputTokens: u?.inputTokens ?? 0, outputTokens: u?.outputTokens ?? 0, costUsd: u?.costUsd ?? 0 });
    const personas = loaded.personas.map((p): TeamPersona => {
      const a = act.get(p.id);
      let model: string | null = null;
      let fallbackModels: string[] = [];
      try {
        [model = null, ...fallbackModels] = resolveModelChain(p, config.models, opts.env);
      } catch {
        // No model configured: shown as null (the doctor says what to set).
      }
      return {
        id: p.id,
        name: p.name,
        role: p.role,
        description: p.description,
        lens: p.lens ?? null,
        model,
        fallbackModels,
        tools: p.tools,
        handles: Object.keys(p.handles ?? {}).map((platform) => ({ platform })),
        github: p.github ? { login: p.github.login } : null,
        status: a && a.waiting > 0 ? 'waiting_for_approval' : a?.running ? 'running' : 'idle',
        activeThreads: [...new Set(a?.threads ?? [])],
        pendingApprovals: a?.waiting ?? 0,
        today: today(used.get(p.id)),
        budget: { dailyTokens: p.budget?.dailyTokens ?? null, dailyUsd: p.budget?.dailyUsd ?? null },
      };
    });
    const total = usage.personas.reduce(
      (sum, u) => ({ calls: sum.calls + u.calls, inputTokens: sum.inputTokens + u.inputTokens, outputTokens: sum.outputTokens + u.outputTokens, costUsd: sum.costUsd + u.costUsd }),
      today(undefined),
    );
    const teamBudget = config.orchestrator.budget;
    return {
      personas,
      team: { today: total, budget: { dailyTokens: teamBudget?.dailyTokens ?? null, dailyUsd: teamBudget?.dailyUsd ?? null } },
      since: usage.since,
    };
  });
}
