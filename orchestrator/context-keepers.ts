import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { historyBudget } from '../agents/context-window.js';
import { tokenCounterFor } from '../agents/tokens.js';
import type { Logger } from '../core/log.js';
import { ContextKeeper, type ContextPolicy } from './graph/context.js';

/** History a persona's model is sent per call when neither pantheon.yaml nor its file says (tokens). */
const DEFAULT_HISTORY_TOKENS = 12_000;
/** The rolling summary's share when not configured: a quarter of the history, at most 1500 tokens. */
const defaultSummaryTokens = (history: number) => Math.min(1500, Math.floor(history / 4));

export interface ContextSettings {
  historyTokens?: number;
  summaryTokens?: number;
}

/** A persona's policy: its own `context:` over `orchestrator.context`, the history never more than a safe share of its model's window. */
export function contextPolicy(team: ContextSettings, own: ContextSettings | undefined, modelSpec: string | undefined): ContextPolicy {
  const configured = own?.historyTokens ?? team.historyTokens ?? DEFAULT_HISTORY_TOKENS;
  const historyTokens = historyBudget(configured, modelSpec);
  const summaryTokens = Math.min(own?.summaryTokens ?? team.summaryTokens ?? defaultSummaryTokens(historyTokens), Math.floor(historyTokens / 2));
  return { historyTokens, summaryTokens };
}

export interface KeeperOptions {
  policy: ContextPolicy;
  /** The persona's primary `provider:model`, for counting its tokens. */
  modelSpec: string | undefined;
  summaryModel: BaseChatModel;
  /** The persona's budgets (and the team's), checked before each summary call: the message naming a spent one, else null. */
  budgetSpent?: () => Promise<string | null>;
  logger?: Pick<Logger, 'warn' | 'debug'>;
  personaId: string;
  onCompacted?: (ms: number) => void;
}

export function contextKeeper(opts: KeeperOptions): ContextKeeper {
  return new ContextKeeper({
    policy: opts.policy,
    counter: tokenCounterFor(opts.modelSpec),
    summaryModel: opts.summaryModel,
    budgetSpent: opts.budgetSpent,
    onSummaryFailed: (err) => opts.logger?.warn({ err, persona: opts.personaId }, 'could not summarise the thread; this step is sent a shorter window'),
    onCompacted: (ms, folded) => {
      opts.logger?.debug({ persona: opts.personaId, ms: Math.round(ms), folded }, 'thread compacted');
      opts.onCompacted?.(ms);
    },
  });
}
