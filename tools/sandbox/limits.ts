import type { SupervisedResult } from './process.js';
import type { SandboxLimits, SandboxResult, SandboxSpec } from './types.js';

export const MB = 1024 * 1024;

/**
 * `prlimit` arguments for a sandboxed command. CPU time, file size and core dumps are always
 * limited this way. Memory and processes are the cgroup's job where there is one: an address-space
 * limit breaks runtimes that reserve much more than they use (V8), so without a cgroup memory is
 * bounded by RLIMIT_DATA (what is actually written to), and processes by RLIMIT_NPROC (counted
 * within the sandbox's own user namespace; it does not bind root, which is why root uses cgroups).
 */
export function limitArgs(limits: SandboxLimits, opts: { cgroup: boolean; fileBytes?: number }): string[] {
  // The soft limit sends SIGXCPU, which says why the process ended; at an equal hard limit the
  // kernel sends SIGKILL instead, and the command looks as if it had crashed.
  const a = [`--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 1}`, '--core=0'];
  if (opts.fileBytes !== undefined) a.push(`--fsize=${opts.fileBytes}`);
  if (!opts.cgroup) a.push(`--data=${limits.memoryMb * MB}`);
  a.push(`--nproc=${limits.processes}`);
  return a;
}

/** One line on the limits, for start-up and `pantheon doctor`. */
export function describeLimit(limits: SandboxLimits, cgroup: string | undefined): string {
  return (
    `limits: memory ${limits.memoryMb} MB and ${limits.processes} processes (${cgroup ?? 'rlimits: no cgroup Pantheon may create'}), ` +
    `CPU ${limits.cpuSeconds} s per process, /tmp ${limits.tmpMb} MB, output ${limits.outputMb} MB`
  );
}

/** Names the limit that stopped (or hampered) the command, if any. */
export function withLimit(
  r: SupervisedResult,
  limits: SandboxLimits,
  spec: Pick<SandboxSpec, 'timeoutMs' | 'diskQuotaBytes' | 'diskQuotaFiles'>,
  stop: string | undefined,
  hits: { memory: boolean; processes: boolean },
): SandboxResult {
  if (stop === 'timeout') return { ...r, limit: 'timeout', limitMessage: `stopped after ${Math.round(spec.timeoutMs / 1000)} s, its time limit; everything it started was stopped too` };
  if (stop === 'output') return { ...r, limit: 'output', limitMessage: `stopped: it wrote more than ${limits.outputMb} MB of output` };
  if (stop === 'files')
    return {
      ...r,
      limit: 'disk',
      limitMessage: `stopped: the workspace and its HOME hold more than ${spec.diskQuotaFiles} files and directories, their quota (workspaces.quotaFiles); delete what is not needed and run again`,
    };
  if (stop === 'disk')
    return {
      ...r,
      limit: 'disk',
      limitMessage: `stopped: the workspace and its HOME grew past their disk quota of ${Math.round((spec.diskQuotaBytes ?? 0) / MB)} MB; delete what is not needed (build output, caches) and run again`,
    };
  if (stop === 'processes' || hits.processes) return { ...r, limit: 'processes', limitMessage: `stopped: it tried to run more than ${limits.processes} processes at once` };
  if (hits.memory) return { ...r, limit: 'memory', limitMessage: `it ran out of memory: everything it starts may use ${limits.memoryMb} MB together` };
  if (r.signal === 'SIGXCPU' || r.code === 128 + 24) return { ...r, limit: 'cpu', limitMessage: `a process used its ${limits.cpuSeconds} s of CPU time and was stopped` };
  if (r.signal === 'SIGXFSZ' || r.code === 128 + 25) return { ...r, limit: 'disk', limitMessage: `a file grew past the workspace's disk quota of ${Math.round((spec.diskQuotaBytes ?? 0) / MB)} MB` };
  // A child stopped by the per-file limit while the command carried on: the shell says so in its
  // own words ("File size limit exceeded"); name the limit too, so nobody mistakes it for a bug.
  if (spec.diskQuotaBytes !== undefined && /File size limit exceeded/.test(r.output)) {
    return { ...r, limit: 'disk', limitMessage: `exit code ${r.code}; a process was stopped when a file reached the workspace's disk quota of ${Math.round(spec.diskQuotaBytes / MB)} MB` };
  }
  return r;
}
