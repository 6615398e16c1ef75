import { ConfigError } from '../../core/config/index.js';
import type { ModuleFactory } from '../../core/modules/types.js';
import { HostRegistry } from './hosts.js';
import { cancelCommand, registerJobRoutes } from './jobs/routes.js';
import { JobRunner } from './jobs/runner.js';
import { JobStore } from './jobs/store.js';
import { Runbooks } from './runbooks.js';
import { ScheduledChecks } from './schedule.js';
import { SshPool } from './ssh-pool.js';
import { ProbeTargetGuard } from './target-guard.js';
import { infraTools } from './tools.js';
import { WorkLedger } from '../../ledger/index.js';

/**
 * Infrastructure work: the `infra` tool group (commands on `infra.hosts` over SSH as durable
 * jobs, health, docker, probes, runbooks), the jobs API, `/cancel <job>`, and the scheduled
 * checks of `infra.schedule`. Absent when no host and no check is configured.
 */
export const infraModule: ModuleFactory = (ctx) => {
  const infra = ctx.loaded.config.infra;
  if (!infra.hosts.length && !infra.schedule.length) return null;
  const logger = ctx.logger.child({ component: 'infra' });
  const hosts = new HostRegistry(infra, ctx.env);
  const runbooks = new Runbooks(infra.runbooks, hosts);
  const ssh = new SshPool({ registry: hosts, logger, ...infra.ssh });
  const store = new JobStore(ctx.pool, infra.jobs.maxLogLines);
  const runner = new JobRunner({ store, ssh, queue: ctx.queue, outbox: ctx.outbox, settings: infra.jobs, ledger: new WorkLedger(ctx.pool), audit: ctx.audit, logger });
  const probeGuard = new ProbeTargetGuard({ allowlist: infra.probeAllowlist });
  const redisUrl = ctx.loaded.config.redis.url;
  const checks = new ScheduledChecks({
    checks: infra.schedule,
    hosts,
    ssh,
    pool: ctx.pool,
    outbox: ctx.outbox,
    queue: ctx.queue,
    logger,
    probeGuard,
    ...(redisUrl ? { redis: { url: redisUrl, prefix: ctx.loaded.config.redis.prefix } } : {}),
  });
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
    async start({ workers }) {
      if (workers) await runner.start({ singleProcess: ctx.queue.kind === 'memory' });
      await checks.start({ workers });
    },
    async stop() {
      await checks.stop();
      await runner.stop();
      await ssh.close();
    },
  };
};
