import { z } from 'zod';
import { scrubSecrets } from '../../core/log.js';
import type { PantheonTool, ToolContext } from '../types.js';
import { HEALTH_COMMAND, parseHealth, summariseHealth } from './health.js';
import type { HostRegistry } from './hosts.js';
import { callKey } from './jobs/store.js';
import { describeJobForModel, dispatchJob, type JobDispatchDeps } from './jobs/dispatch.js';
import { describeHttpProbe, describeTls, httpProbe, tlsExpiry } from './probes.js';
import { runQuick } from './remote-exec.js';
import type { Runbooks } from './runbooks.js';
import type { SshPool } from './ssh-pool.js';
import type { ProbeTargetGuard } from './target-guard.js';

export interface InfraToolDeps extends JobDispatchDeps {
  hosts: HostRegistry;
  ssh: SshPool;
  runbooks: Runbooks;
  /** What `http_probe` and `tls_expiry` may reach (`infra.probeAllowlist`); default: the built-in refusals only. */
  probeGuard?: ProbeTargetGuard;
}

const hostArg = (hosts: HostRegistry) =>
  z
    .string()
    .min(1)
    .describe(`A host from the configuration: ${hosts.names().join(', ') || '(none configured)'}`);
const jobArg = z
  .string()
  .regex(/^\s*j-[0-9a-f]{8}\s*$/i, 'a job id looks like j-1a2b3c4d')
  .describe('The job id, e.g. j-1a2b3c4d');

/** Runs a fixed read-only command and answers its stdout (stderr when it failed). */
async function readOnly(deps: InfraToolDeps, host: string, command: string): Promise<{ ok: boolean; lines: string[] }> {
  deps.hosts.get(host);
  const r = await runQuick(deps.ssh, host, command, 20_000);
  if (r.timedOut) throw new Error(`\`${command}\` on ${host} did not finish within 20 s`);
  const lines = (r.exitCode === 0 ? r.lines : [...r.lines, ...r.errors]).map(scrubSecrets);
  return { ok: r.exitCode === 0, lines };
}

/** The `infra` tool group: commands as jobs, health, docker, probes, runbooks, job control. */
export function infraTools(deps: InfraToolDeps): (ctx: ToolContext) => PantheonTool[] {
  const { hosts, runbooks, store, runner } = deps;
  return (): PantheonTool[] => {
    const runCommand: PantheonTool<z.ZodObject<{ host: z.ZodString; command: z.ZodString; timeoutSeconds: z.ZodOptional<z.ZodNumber>; idempotent: z.ZodOptional<z.ZodBoolean> }>> = {
      name: 'run_command',
      description:
        'Run a shell command on a registered host over SSH, as a job whose output streams to the thread. Read-only commands (uptime, df -h, free -m, docker ps, systemctl status ...) run at once; anything else waits for a human approval. Answers the output, or the job id if it is still running.',
      risk: 'infra',
      schema: z.object({
        host: hostArg(hosts),
        command: z.string().min(1).max(4000).describe('The exact command line'),
        timeoutSeconds: z.number().int().positive().max(86_400).optional().describe(`Stop it after this long (default ${deps.settings.timeoutSeconds})`),
        idempotent: z.boolean().optional().describe('True only if running it twice is harmless: then it is retried after a lost connection or worker'),
      }),
      riskFor: ({ host, command }) => (hosts.has(host) ? hosts.get(host).policy.riskOf(command, host) : 'read'),
      run: async (args, call) => {
        const host = hosts.get(args.host);
        const verdict = host.policy.classify(args.command);
        if (verdict.kind === 'deny') throw new Error(`the command policy of ${host.name} refuses commands matching "${verdict.pattern}"`);
        return dispatchJob(deps, 'run_command', args, call, {
          host: host.name,
          command: args.command,
          idempotent: args.idempotent ?? verdict.kind === 'read',
          timeoutSeconds: args.timeoutSeconds ?? deps.settings.timeoutSeconds,
        });
      },
    };

    const hostHealth: PantheonTool<z.ZodObject<{ host: z.ZodString }>> = {
      name: 'host_health',
      description: 'Health of a registered host at a glance: uptime, load per CPU, memory, disk use per filesystem.',
      risk: 'read',
      schema: z.object({ host: hostArg(hosts) }),
      run: async ({ host }) => {
        const { lines } = await readOnly(deps, host, HEALTH_COMMAND);
        return summariseHealth(host, parseHealth(lines));
      },
    };

    const dockerStatus: PantheonTool<z.ZodObject<{ host: z.ZodString }>> = {
      name: 'docker_status',
      description: 'The docker containers on a registered host: name, status (up/exited, health) and image.',
      risk: 'read',
      schema: z.object({ host: hostArg(hosts) }),
      run: async ({ host }) => {
        const { ok, lines } = await readOnly(deps, host, `docker ps -a --format '{{.Names}}\t{{.Status}}\t{{.Image}}'`);
        if (!ok) return `docker ps failed on ${host}:\n${lines.join('\n')}`;
        if (!lines.length) return `${host}: no containers.`;
        return [`${host}: ${lines.length} container${lines.length === 1 ? '' : 's'}`, ...lines.map((l) => `- ${l.split('\t').join(' · ')}`)].join('\n');
      },
    };

    const dockerRestart: PantheonTool<z.ZodObject<{ host: z.ZodString; container: z.ZodString }>> = {
      name: 'docker_restart',
      description: 'Restart one docker container on a registered host (waits for a human approval). Runs as a job.',
      risk: 'infra',
      // A restart drops live connections: a human says when, even where the policy lets infra work run unasked.
      alwaysAsk: true,
      schema: z.object({
        host: hostArg(hosts),
        container: z
          .string()
          .regex(/^[A-Za-z0-9][\w.-]*$/, 'a container name or id')
          .describe('Container name or id'),
      }),
      riskFor: ({ host, container }) => {
        if (!hosts.has(host)) return 'read';
        const verdict = hosts.get(host).policy.riskOf(`docker restart ${container}`, host);
        return typeof verdict === 'object' ? verdict : 'infra';
      },
      run: async (args, call) => {
        hosts.get(args.host);
        return dispatchJob(deps, 'docker_restart', args, call, { host: args.host, command: `docker restart ${args.container}`, kind: 'docker_restart', idempotent: true, timeoutSeconds: 120 });
      },
    };

    const probe: PantheonTool<z.ZodObject<{ url: z.ZodString; expectStatus: z.ZodOptional<z.ZodNumber>; timeoutSeconds: z.ZodOptional<z.ZodNumber> }>> = {
      name: 'http_probe',
      description:
        "Request a URL once and report its HTTP status and latency (time to the response headers). Pantheon's own host (loopback), link-local and cloud metadata addresses are refused unless an operator allowlisted them.",
      risk: 'read',
      schema: z.object({
        url: z.string().url().describe('http(s) URL'),
        expectStatus: z.number().int().min(100).max(599).optional().describe('Status that counts as up (default: any below 400)'),
        timeoutSeconds: z.number().positive().max(60).optional(),
      }),
      run: async ({ url, expectStatus, timeoutSeconds }) => describeHttpProbe(await httpProbe(url, { expectStatus, timeoutMs: (timeoutSeconds ?? 10) * 1000, guard: deps.probeGuard })),
    };

    const tls: PantheonTool<z.ZodObject<{ target: z.ZodString; warnDays: z.ZodOptional<z.ZodNumber> }>> = {
      name: 'tls_expiry',
      description:
        "When the TLS certificate of a server expires (and whether it is trusted). Pantheon's own host (loopback), link-local and cloud metadata addresses are refused unless an operator allowlisted them.",
      risk: 'read',
      schema: z.object({
        target: z.string().min(1).describe('host, host:port or https URL'),
        warnDays: z.number().int().positive().optional().describe('Flag certificates expiring sooner than this (default 14)'),
      }),
      run: async ({ target, warnDays }) => describeTls(await tlsExpiry(target, { guard: deps.probeGuard }), warnDays),
    };

    const runbook: PantheonTool<z.ZodObject<{ runbook: z.ZodString; step: z.ZodOptional<z.ZodNumber> }>> = {
      name: 'run_runbook',
      description: `Run a reviewed runbook from the configuration (${runbooks.names().join(', ') || 'none configured'}). Without step: shows the plan. With step: runs that step (in order, from 1) as a job; each mutating step waits for a human approval.`,
      risk: 'read',
      schema: z.object({ runbook: z.string().min(1), step: z.number().int().positive().optional() }),
      riskFor: ({ runbook: name, step }) => {
        if (step === undefined) return 'read';
        try {
          return runbooks.riskOf(runbooks.step(name, step));
        } catch {
          return 'read'; // run() explains what is wrong
        }
      },
      describeCall: ({ runbook: name, step }) => {
        if (step === undefined) return undefined;
        const s = runbooks.step(name, step);
        return { host: s.host, command: s.run };
      },
      run: async (args, call) => {
        if (args.step === undefined) return runbooks.describe(args.runbook);
        const step = runbooks.step(args.runbook, args.step);
        const again = await store.getByCallKey(callKey([call.threadId, call.id, 'run_runbook', args]));
        if (!again && step.index > 1) {
          const last = await store.lastRunbookJob(call.threadId, args.runbook);
          if (!last || last.step !== step.index - 1 || last.status !== 'succeeded') {
            return `Not run: step ${step.index} of ${args.runbook} comes after step ${step.index - 1} has succeeded in this thread${last ? ` (the last step run here was ${last.step}, ${last.status})` : ''}.`;
          }
        }
        const total = runbooks.get(args.runbook).steps.length;
        const result = await dispatchJob(deps, 'run_runbook', args, call, {
          host: step.host,
          command: step.run,
          kind: 'runbook',
          runbook: args.runbook,
          step: step.index,
          idempotent: step.idempotent,
          timeoutSeconds: step.timeoutSeconds ?? deps.settings.timeoutSeconds,
        });
        const next =
          step.index < total ? `Next: step ${step.index + 1} (${runbooks.step(args.runbook, step.index + 1).name}) once this one has succeeded.` : `That was the last step of ${args.runbook}.`;
        return `Step ${step.index}/${total} (${step.name}): ${result}\n${next}`;
      },
    };

    const jobStatus: PantheonTool<z.ZodObject<{ job: z.ZodString }>> = {
      name: 'job_status',
      description: 'The status and latest output of an infra job.',
      risk: 'read',
      schema: z.object({ job: jobArg }),
      run: async ({ job }) => {
        const found = await store.get(job);
        if (!found) return `No job ${job.trim()}.`;
        return describeJobForModel(store, found);
      },
    };

    const cancelJob: PantheonTool<z.ZodObject<{ job: z.ZodString }>> = {
      name: 'cancel_job',
      description: 'Stop a running infra job (its remote process is signalled).',
      risk: 'write',
      schema: z.object({ job: jobArg }),
      run: async ({ job }, call) => (await runner.cancel(job, call.persona)).message,
    };

    return [runCommand, hostHealth, dockerStatus, dockerRestart, probe, tls, runbook, jobStatus, cancelJob] as PantheonTool[];
  };
}
