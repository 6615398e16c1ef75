import { registeredPlatforms } from '../core/config/platforms.js';
import type { Persona, ToolGroup } from '../core/config/persona-schema.js';
import { chatTools } from './chat/index.js';
import type { LiveToolGroup, OutboxPort, PantheonTool, PersonaCredentials, ToolContext, ToolGroupFactory } from './types.js';

/** Groups the orchestrator provides itself (the handoff tool is part of the graph). */
const GRAPH_GROUPS: ReadonlySet<string> = new Set<ToolGroup>(['handoff']);

export interface PersonaToolDeps {
  outbox: OutboxPort;
  /** The team, for `list_team`. */
  team?: readonly Persona[];
  /** Tool group factories by name; they add to, and replace, the built-in ones. */
  groups?: Record<string, ToolGroupFactory>;
  /** Groups whose tools are known only at run time (`mcp:<server>`), by name. */
  liveGroups?: Record<string, LiveToolGroup>;
}

/**
 * A persona's tools from its live groups, asked before each model step: the tools of every group
 * that has them, and for each that does not, a line saying why (for the persona).
 */
export type LiveTools = () => Promise<{ tools: PantheonTool[]; problems: string[] }>;

/**
 * The tools a persona's YAML grants it. Each group is built with a context holding only this
 * persona's own credentials, taken from its own file: never the process environment, never
 * another persona's. Granted groups that no factory builds yet are reported in `missing`.
 */
export function buildPersonaTools(persona: Persona, deps: PersonaToolDeps): { tools: PantheonTool[]; live?: LiveTools; missing: string[] } {
  const groups: Record<string, ToolGroupFactory> = { chat: chatTools({ team: deps.team ?? [] }), ...deps.groups };
  const ctx: ToolContext = {
    persona: { id: persona.id, name: persona.name, role: persona.role },
    credentials: personaCredentials(persona),
    outbox: deps.outbox,
  };
  const tools: PantheonTool[] = [];
  const missing: string[] = [];
  const seen = new Map<string, string>();
  const live: Array<[string, LiveToolGroup]> = [];
  for (const group of persona.tools) {
    if (GRAPH_GROUPS.has(group)) continue;
    const liveGroup = deps.liveGroups && Object.hasOwn(deps.liveGroups, group) ? deps.liveGroups[group] : undefined;
    if (liveGroup) {
      live.push([group, liveGroup]);
      continue;
    }
    const factory = Object.hasOwn(groups, group) ? groups[group] : undefined;
    if (!factory) {
      missing.push(group);
      continue;
    }
    for (const tool of factory(ctx)) {
      const clash = seen.get(tool.name);
      if (clash) throw new Error(`tool "${tool.name}" is defined by both the ${clash} and the ${group} tool groups; tool names must be unique`);
      seen.set(tool.name, group);
      tools.push(tool);
    }
  }
  return { tools, missing, ...(live.length ? { live: liveTools(live, ctx) } : {}) };
}

/** The live groups' tools together: the same array while no group's tools changed (the model's tool binding is kept by it). */
function liveTools(groups: Array<[string, LiveToolGroup]>, ctx: ToolContext): LiveTools {
  let last: { parts: PantheonTool[][]; tools: PantheonTool[] } | undefined;
  return async () => {
    const settled = await Promise.allSettled(groups.map(([, g]) => g.tools(ctx)));
    const parts: PantheonTool[][] = [];
    const problems: string[] = [];
    settled.forEach((r, i) => {
      if (r.status === 'fulfilled') parts.push(r.value);
      else problems.push(`The tools of ${groups[i]![0]} are unavailable: ${(r.reason as Error)?.message ?? String(r.reason)}`);
    });
    if (!last || last.parts.length !== parts.length || last.parts.some((p, i) => p !== parts[i])) last = { parts, tools: parts.flat() };
    return { tools: last.tools, problems };
  };
}

/** A persona's own tokens, from its YAML (already interpolated from the environment at load). */
function personaCredentials(persona: Persona): PersonaCredentials {
  const chat: PersonaCredentials['chat'] = {};
  const handles: Partial<Record<string, unknown>> = persona.handles ?? {};
  for (const platform of registeredPlatforms()) {
    const handle = handles[platform.name];
    const token = handle === undefined ? undefined : platform.handleToken?.(handle as never);
    if (token) chat[platform.name as keyof PersonaCredentials['chat']] = token;
  }
  return {
    ...(persona.github?.token ? { githubToken: persona.github.token } : {}),
    chat,
  };
}
