import { scrubSecrets, type Logger } from '../../core/log.js';
import type { ScheduledOutcome } from '../../core/modules/types.js';
import { runQuick } from './remote-exec.js';
import type { Runbooks } from './runbooks.js';
import type { SshPool } from './ssh-pool.js';

/** The end of a step's output shown in the thread (outputs are scrubbed of secrets first). */
const said = (lines: string[]) => scrubSecrets(lines.slice(-3).join(' / ')).slice(0, 300);

/**
 * A runbook run by `schedules:`: every step in order, stopping at the first that fails. The
 * operator who wrote the schedule in pantheon.yaml gave the approval a persona would have to ask
 * for, step by step; the host's command policy still applies, and is read before anything runs:
 * a runbook with a refused step runs none of its steps (never half of it, every occurrence). The
 * report (each step that ran, with the end of its output) is for the scheduler to post in the
 * schedule's thread.
 */
export async function runScheduledRunbook(deps: { runbooks: Runbooks; ssh: SshPool; name: string; occurrence: Date; logger: Logger }): Promise<ScheduledOutcome> {
  const { runbooks, name } = deps;
  const logger = deps.logger.child({ runbook: name, occurrence: deps.occurrence.toISOString() });
  const steps = runbooks.get(name).steps.map((_, i) => runbooks.step(name, i + 1));
  for (const step of steps) {
    const risk = runbooks.riskOf(step);
    if (typeof risk === 'object') {
      logger.info({ step: step.index }, 'scheduled runbook refused by the host policy');
      return { ok: false, detail: `runbook ${name} not run: step ${step.index} (${step.name}) is refused by the host policy: ${risk.refuse}` };
    }
  }
  const lines: string[] = [];
  let failed: string | undefined;
  for (const step of steps) {
    const where = `step ${step.index} (${step.name}) on ${step.host}`;
    try {
      const r = await runQuick(deps.ssh, step.host, step.run, (step.timeoutSeconds ?? 300) * 1000, 20);
      const output = said([...r.lines, ...r.errors]);
      if (r.timedOut) failed = `${where} did not finish in ${step.timeoutSeconds ?? 300} s`;
      else if (r.exitCode !== 0) failed = `${where} failed (exit ${r.exitCode})${output ? `: ${output}` : ''}`;
      else lines.push(`${step.index}. ${step.name} on ${step.host}: ok${output ? ` (${output})` : ''}`);
    } catch (err) {
      // Unreachable, a refused host key, a dropped connection: the steps before it still count.
      failed = `${where} could not run: ${scrubSecrets((err as Error).message)}`;
    }
    if (failed) break;
  }
  logger.info({ ok: !failed }, 'scheduled runbook finished');
  const total = steps.length;
  return {
    ok: !failed,
    detail: failed ? `runbook ${name} stopped: ${failed}` : `runbook ${name}: ${total} of ${total} steps succeeded`,
    report: [`Runbook ${name} (scheduled):`, ...lines, ...(failed ? [`✗ ${failed}`] : [])].join('\n'),
  };
}
