import type { RiskClass } from '../../core/config/policy.js';
import type { InfraConfig } from '../../core/config/schema.js';
import type { HostRegistry } from './hosts.js';

export type RunbookConfig = InfraConfig['runbooks'][number];

/** One step of a runbook, its host settled. */
export interface RunbookStep {
  index: number;
  name: string;
  run: string;
  host: string;
  mutating?: boolean;
  idempotent: boolean;
  timeoutSeconds?: number;
}

/**
 * Runbooks: named sequences of commands written and reviewed in pantheon.yaml. A persona runs
 * them one step at a time, in order (`run_runbook {runbook, step}`), so every mutating step
 * passes the tool guard on its own and asks a human with its own approval.
 */
export class Runbooks {
  private readonly byName = new Map<string, RunbookConfig>();

  constructor(
    config: RunbookConfig[],
    private readonly hosts: HostRegistry,
  ) {
    for (const r of config) this.byName.set(r.name, r);
  }

  /** Problems with runbooks that name unknown hosts (`[path, problem]`), for a config error at start. */
  problems(): { path: string; problem: string }[] {
    const out: { path: string; problem: string }[] = [];
    for (const [i, r] of [...this.byName.values()].entries()) {
      for (const [j, s] of r.steps.entries()) {
        const host = s.host ?? r.host;
        if (!host) out.push({ path: `infra.runbooks[${i}].steps[${j}].host`, problem: `step "${s.name}" has no host (set host on the step or the runbook)` });
        else if (!this.hosts.has(host)) out.push({ path: `infra.runbooks[${i}].steps[${j}].host`, problem: `unknown host "${host}"; known: ${this.hosts.names().join(', ') || 'none'}` });
      }
    }
    return out;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  get(name: string): RunbookConfig {
    const r = this.byName.get(name);
    if (!r) throw new Error(`no runbook "${name}"; runbooks: ${this.names().join(', ') || 'none configured (infra.runbooks)'}`);
    return r;
  }

  step(name: string, index: number): RunbookStep {
    const r = this.get(name);
    const s = r.steps[index - 1];
    if (!s) throw new Error(`runbook ${name} has steps 1 to ${r.steps.length}, not ${index}`);
    return { index, name: s.name, run: s.run, host: s.host ?? r.host!, mutating: s.mutating, idempotent: s.idempotent, timeoutSeconds: s.timeoutSeconds };
  }

  /** The risk of a step: `mutating` from the config wins; otherwise the host's command policy decides. */
  riskOf(step: RunbookStep): RiskClass | { refuse: string } {
    const policy = this.hosts.get(step.host).policy;
    const verdict = policy.riskOf(step.run, step.host);
    if (typeof verdict === 'object') return verdict;
    if (step.mutating === false) return 'read';
    if (step.mutating === true && verdict === 'read') return 'infra';
    return verdict;
  }

  /** The plan, as the persona (and the humans reading along) see it. */
  describe(name: string): string {
    const r = this.get(name);
    const lines = r.steps.map((_, i) => {
      const step = this.step(name, i + 1);
      const risk = this.riskOf(step);
      const how = typeof risk === 'object' ? 'refused by the host policy' : risk === 'read' ? 'read-only, runs at once' : `${risk}: asks for approval`;
      return `${i + 1}. ${step.name} — \`${step.run}\` on ${step.host} (${how})`;
    });
    return [
      `Runbook ${r.name}${r.description ? `: ${r.description}` : ''} (${r.steps.length} step${r.steps.length === 1 ? '' : 's'})`,
      ...lines,
      `Run the steps in order with run_runbook {"runbook": "${r.name}", "step": n}, starting at 1; stop and report if one fails.`,
    ].join('\n');
  }
}
