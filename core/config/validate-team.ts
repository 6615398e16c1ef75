import type { Persona } from './persona-schema.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import type { PantheonConfig } from './schema.js';
import { mcpGroupServer } from './mcp.js';

/**
 * Checks that pantheon.yaml and the persona files agree: bindings name real personas,
 * humans are not confused with personas, names are unique. Reports every problem found.
 */
export function checkTeamReferences(config: PantheonConfig, personas: Persona[], file: string, opts: { defaultPersonaExplicit: boolean; personaFiles?: ReadonlyMap<string, string> }): void {
  const ids = new Set(personas.map((p) => p.id));
  const team = personas.map((p) => p.id).join(', ') || '(no personas)';
  const problems: ConfigProblem[] = [];

  if (personas.length === 0) problems.push({ path: 'personasDir', problem: 'no personas were loaded; add persona files' });

  config.bindings.forEach((binding, i) => {
    if (!ids.has(binding.persona)) {
      problems.push({ path: `bindings[${i}].persona`, problem: `no persona named "${binding.persona}"; the team is: ${team}` });
    }
  });

  const humanIds = new Map<string, number>();
  config.humans.forEach((human, i) => {
    const key = human.id.toLowerCase();
    const earlier = humanIds.get(key);
    if (earlier !== undefined) problems.push({ path: `humans[${i}].id`, problem: `duplicate human id "${human.id}" (also humans[${earlier}])` });
    else humanIds.set(key, i);
    if (ids.has(key)) {
      problems.push({ path: `humans[${i}].id`, problem: `"${human.id}" is a persona id; a human needs a different id so @${human.id} is not ambiguous` });
    }
  });

  const hostNames = new Map<string, number>();
  config.infra.hosts.forEach((host, i) => {
    const earlier = hostNames.get(host.name);
    if (earlier !== undefined) problems.push({ path: `infra.hosts[${i}].name`, problem: `duplicate host name "${host.name}" (also infra.hosts[${earlier}])` });
    else hostNames.set(host.name, i);
  });

  const runbooks = new Set(config.infra.runbooks.map((r) => r.name));
  config.schedules.forEach((schedule, i) => {
    if (schedule.persona !== undefined && !ids.has(schedule.persona)) {
      problems.push({ path: `schedules[${i}].persona`, problem: `no persona named "${schedule.persona}"; the team is: ${team}` });
    }
    if (schedule.runbook !== undefined && !runbooks.has(schedule.runbook)) {
      problems.push({ path: `schedules[${i}].runbook`, problem: `no runbook named "${schedule.runbook}" in infra.runbooks; runbooks: ${[...runbooks].join(', ') || 'none'}` });
    }
  });

  if (!ids.has(config.orchestrator.defaultPersona) && personas.length > 0) {
    if (opts.defaultPersonaExplicit) {
      problems.push({ path: 'orchestrator.defaultPersona', problem: `no persona named "${config.orchestrator.defaultPersona}"; the team is: ${team}` });
    } else {
      // The default ("athena") is not in a custom team: use its PM, else its first persona.
      config.orchestrator.defaultPersona = (personas.find((p) => p.role === 'pm') ?? personas[0]!).id;
    }
  }

  const [first, ...rest] = problems;
  if (first) throw new ConfigError(file, first.path, first.problem, rest);
  checkMcpGroups(config, personas, opts.personaFiles);
}

/** Every `mcp:<server>` a persona lists names a server of `mcp.servers`; reported in the persona's file. */
function checkMcpGroups(config: PantheonConfig, personas: Persona[], files: ReadonlyMap<string, string> | undefined): void {
  const servers = Object.keys(config.mcp.servers);
  for (const persona of personas) {
    const problems: ConfigProblem[] = [];
    persona.tools.forEach((group, i) => {
      const server = mcpGroupServer(group);
      if (server !== undefined && !Object.hasOwn(config.mcp.servers, server)) {
        problems.push({ path: `tools[${i}]`, problem: `no MCP server named "${server}" in mcp.servers of pantheon.yaml (configured: ${servers.join(', ') || 'none'})` });
      }
    });
    const [first, ...rest] = problems;
    if (first) throw new ConfigError(files?.get(persona.id) ?? `persona ${persona.id}`, first.path, first.problem, rest);
  }
}
