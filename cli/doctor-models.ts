import type { LoadedConfig } from '../core/config/index.js';
import { createPersonaModel, resolveModelChain } from '../agents/index.js';
import { runConformance } from '../orchestrator/conformance/run.js';
import { SCENARIOS } from '../orchestrator/conformance/scenarios.js';
import { fail, ok, warn, type Fact } from './doctor-report.js';

/** The short form of the model conformance suite: what a model must do for Pantheon to work at all. */
const SHORT = SCENARIOS.filter((s) => s.short);

const clip = (text: string, max = 240) => (text.length > max ? `${text.slice(0, max)}…` : text);

/**
 * `pantheon doctor`'s Models section: each primary model the team uses gets the conformance suite's
 * short form (a plain answer, one tool call and its result), through the same model chain a persona
 * runs on, so the user learns whether their model can drive Pantheon's tools before a human waits
 * on it. Costs a few small requests per model; `--no-model-check` skips it.
 */
export async function modelFacts(loaded: LoadedConfig, env: NodeJS.ProcessEnv, opts: { check: boolean }): Promise<Fact[]> {
  const { config, personas } = loaded;
  const specs = new Map<string, string[]>();
  const facts: Fact[] = [];
  for (const persona of [...personas, { id: 'pantheon' }]) {
    try {
      const [primary] = resolveModelChain(persona, config.models, env);
      if (primary) specs.set(primary, [...(specs.get(primary) ?? []), persona.id]);
    } catch (err) {
      facts.push(warn(`model of ${persona.id}: ${(err as Error).message}`));
      break;
    }
  }
  if (!specs.size) return facts;
  if (!opts.check) return [...facts, ...[...specs].map(([spec, users]) => ok(`model ${spec} (${users.join(', ')}): not tried (--no-model-check)`))];
  for (const [spec, users] of specs) {
    let model: ReturnType<typeof createPersonaModel>;
    try {
      model = createPersonaModel({ persona: { id: users[0]!, model: spec }, models: config.models, env });
    } catch (err) {
      facts.push(fail(`model ${spec}: ${(err as Error).message}`));
      continue;
    }
    const results = await runConformance({ model, scenarios: SHORT, timeoutMs: Math.max(30_000, (config.models.timeoutMs ?? 60_000) * 2) });
    const failed = results.filter((r) => r.outcome === 'fail');
    if (!failed.length) {
      facts.push(ok(`model ${spec} (${users.join(', ')}): can drive Pantheon's tools (${results.map((r) => r.title).join(', ')})`));
      continue;
    }
    const why = failed.map((r) => `${r.title}: ${clip(r.detail ?? 'failed')}`).join('; ');
    facts.push(fail(`model ${spec} (${users.join(', ')}): cannot drive Pantheon's tools — ${why}`));
  }
  return facts;
}
