import { scrubSecrets, type Logger } from '../../core/log.js';
import type { ScheduledOutcome } from '../../core/modules/types.js';
import type { OutboxPort } from '../types.js';
import { runQuick } from './remote-exec.js';
import type { Runbooks } from './runbooks.js';
import type { SshPool } from './ssh-pool.js';

/**
 * A runbook run by `schedules:`: every step in order, stopping at the first that fails or that
 * the host's command policy refuses. The operator who wrote the schedule in pantheon.yaml gave
 * the approval a persona would have to ask for, step by step; what each step did is posted in
 * the schedule's thread.
 */
export async function runScheduledRunbook(deps: { runbooks: Runbooks; ssh: SshPool; name: string; thread: string; outbox: OutboxPort; logger: Logger }): Promise<ScheduledOutcome> {
  const { runbooks, name } = deps;
  const total = runbooks.get(name).steps.length;
  const lines: string[] = [];
  let failed: string | undefined;
  for (let index = 1; index <= total && !failed; index++) {
    const step = runbooks.step(name, index);
    const risk = runbooks.riskOf(step);
    if (typeof risk === 'object') {
      failed = `step ${index} (${step.name}) refused by the host policy: ${risk.refuse}`;
      break;
    }
    const r = await runQuick(deps.ssh, step.host, step.run, (step.timeoutSeconds ?? 300) * 1000, 20);
    const said = scrubSecrets([...r.lines, ...r.errors].slice(-3).join(' / ')).slice(0, 300);
    if (r.timedOut) failed = `step ${index} (${step.name}) on ${step.host} did not finish in time`;
    else if (r.exitCode !== 0) failed = `step ${index} (${step.name}) failed on ${step.host} (exit ${r.exitCode})${said ? `: ${said}` : ''}`;
    else lines.push(`${index}. ${step.name} on ${step.host}: ok${said ? ` (${said})` : ''}`);
  }
  const detail = failed ? `runbook ${name} stopped: ${failed}` : `runbook ${name}: ${total} of ${total} steps succeeded`;
  deps.logger.info({ runbook: name, ok: !failed }, 'scheduled runbook finished');
  await deps.outbox.send({
    idempotencyKey: `schedule-runbook:${name}:${Date.now()}`,
    platform: deps.thread.split(':')[0]!,
    threadId: deps.thread,
    role: 'system',
    text: [`Runbook ${name} (scheduled):`, ...lines, ...(failed ? [`✗ ${failed}`] : [])].join('\n'),
  });
  return { ok: !failed, detail, reported: false };
}
