import type { SandboxLimits } from './types.js';

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
  return `limits: memory ${limits.memoryMb} MB and ${limits.processes} processes (${cgroup ?? 'rlimits: no cgroup Pantheon may create'}), ` +
    `CPU ${limits.cpuSeconds} s per process, /tmp ${limits.tmpMb} MB, output ${limits.outputMb} MB`;
}
