import type { Envelope } from '../core/chat/types.js';
import type { PersonaRegistry } from '../personas/registry.js';
import { SUPERVISOR_ID } from './graph/posting.js';

export interface RouterConfig {
  personas: PersonaRegistry;
  bindings: ReadonlyArray<{ channel: string; persona: string }>;
  knownHumans: string[];
  /** Channels whose unaddressed messages are conversations with the orchestrator itself. */
  orchestratorPlatforms: ReadonlySet<string>;
}

export interface Route {
  /** Who answers, in order; `pantheon` is the orchestrator's supervisor. */
  personas: string[];
  /** @names that are neither personas nor known humans. */
  unknown: string[];
  reason: 'mention' | 'direct' | 'event' | 'binding' | 'orchestrator' | 'none';
}

/**
 * Deterministic routing, first match wins: explicit @mentions (each mentioned persona, in order),
 * a direct message to a persona's own handle, persona targets of a platform event (GitHub
 * assignee, reviewer, mentioned login), a binding of the channel to a persona, and only then a
 * conversation with the orchestrator itself (its supervisor decides). Otherwise nobody answers.
 * No model is asked whether to respond.
 */
export function routeBatch(cfg: RouterConfig, batch: readonly Envelope[]): Route {
  const mentioned: string[] = [];
  const unknown: string[] = [];
  for (const e of batch) {
    for (const id of cfg.personas.findMentions(e.text)) if (!mentioned.includes(id)) mentioned.push(id);
    for (const name of cfg.personas.unknownMentions(e.text, cfg.knownHumans)) if (!unknown.includes(name)) unknown.push(name);
  }
  if (mentioned.length) return { personas: mentioned, unknown, reason: 'mention' };
  const direct = batch.map((e) => e.directTo ?? localDirect(e)).find((id): id is string => !!id && cfg.personas.has(id));
  if (direct) return { personas: [direct], unknown, reason: 'direct' };
  const targets = [...new Set(batch.flatMap((e) => e.targets ?? []).filter((id) => cfg.personas.has(id)))];
  if (targets.length) return { personas: targets, unknown, reason: 'event' };
  if (unknown.length) return { personas: [], unknown, reason: 'none' };
  const key = batch.at(-1)?.bindingKey ?? batch.at(-1)?.threadId;
  const bound = cfg.bindings.find((b) => b.channel === key && cfg.personas.has(b.persona));
  if (bound) return { personas: [bound.persona], unknown, reason: 'binding' };
  if (batch.some((e) => cfg.orchestratorPlatforms.has(e.platform))) return { personas: [SUPERVISOR_ID], unknown, reason: 'orchestrator' };
  return { personas: [], unknown, reason: 'none' };
}

/** In the local chat, the conversation `dm-<persona>` is a direct conversation with that persona. */
function localDirect(e: Envelope): string | undefined {
  return e.platform === 'local' ? /^local:dm-([a-z][a-z0-9-]*)$/.exec(e.threadId)?.[1] : undefined;
}
