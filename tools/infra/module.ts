import { ConfigError } from '../../core/config/index.js';
import type { ModuleFactory } from '../../core/modules/types.js';
import { HostRegistry } from './hosts.js';
import { cancelCommand, registerJobRoutes } from './jobs/routes.js';
import { JobRunner } from './jobs/runner.js';
import { JobStore } from './jobs/store.js';
import { Runbooks } from './runbooks.js';
import { ScheduledChecks, type ScheduledCheck } from './schedule.js';
import { runScheduledRunbook } from './scheduled-runbook.js';
import type { PantheonConfig } from '../../core/config/schema.js';
import { SshPool } from './ssh-pool.js';
import { ProbeTargetGuard } from './target-guard.js';
import { infraTools } from './tools.js';
import { WorkLedger } from '../../ledger/index.js';

/**
 * Infrastructure work: the `infra` tool group (commands on `infra.hosts` over SSH as durable
 * jobs, health, docker, probes, runbooks), the jobs API, `/cancel <job>`, and the checks and
 * runbooks of `schedules:` (run when the scheduler says). Absent when none of them is configured.
 */
export const infraModule: ModuleFactory = (ctx) => {
  const { infra, schedules } = ctx.loaded.config;
  const checkList = checkSchedules(ctx.loaded.config);
  if (!infra.hosts.length && !checkList.length && !schedules.some((s) => s.runbook)) return null;
  const logger = ctx.logger.child({ component: 'infra' });
  const hosts = new HostRegistry(infra, ctx.env);
  const runbooks = new Runbooks(infra.runbooks, hosts);
  const ssh = new SshPool({ registry: hosts, logger, ...infra.ssh });
  const store = new JobStore(ctx.pool, infra.jobs.maxLogLines);
  const runner = new JobRunner({ store, ssh, queue: ctx.queue, outbox: ctx.outbox, settings: infra.jobs, ledger: new WorkLedger(ctx.pool), audit: ctx.audit, notifier: ctx.notifier, logger });
  const probeGuard = new ProbeTargetGuard({ allowlist: infra.probeAllowlist });
  const checks = new ScheduledChecks({ checks: checkList, hosts, ssh, pool: ctx.pool, outbox: ctx.outbox, logger, probeGuard });
  const problems = [...runbooks.problems(), ...checks.problems(), ...probeGuard.problems()];
  if (problems.length) {
    const [first, ...more] = problems;
    throw new ConfigError(ctx.loaded.configFile ?? 'pantheon.yaml', first!.path, first!.problem, more);
  }
  ctx.commands.register(
    cancelCommand(runner, {
      identify: (platform, user) => ctx.approvers.identify(platform, user),
      any: () => ctx.loaded.config.humans.length > 0,
    }),
  );
  return {
    name: 'infra',
    toolGroups: { infra: infraTools({ hosts, ssh, runbooks, store, runner, settings: infra.jobs, probeGuard }) },
    routes: (http) => registerJobRoutes(http, { store, runner }),
    scheduled: {
      async check(schedule) {
        const outcome = await checks.run({ name: schedule.name, check: schedule.check!, channel: schedule.thread, resolved: schedule.resolved, path: '' });
        return { ...outcome, reported: true };
      },
      runbook: (schedule, occurrence) => runScheduledRunbook({ runbooks, ssh, name: schedule.runbook!, occurrence, logger }),
    },
    async start({ workers }) {
      if (workers) await runner.start({ singleProcess: ctx.queue.kind === 'memory' });
    },
    async stop() {
      await runner.stop();
      await ssh.close();
    },
  };
};

/** The check schedules, each with where it is in the configuration (an `infra.schedule` entry is still named there). */
function checkSchedules(config: PantheonConfig): ScheduledCheck[] {
  return config.schedules.flatMap((s, i) => {
    if (!s.check) return [];
    const old = config.infra.schedule.findIndex((c) => c.name === s.name);
    return [{ name: s.name, check: s.check, channel: s.thread, resolved: s.resolved, path: old >= 0 ? `infra.schedule[${old}]` : `schedules[${i}]` }];
  });
}
