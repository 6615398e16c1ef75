import { readFile } from 'node:fs/promises';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process's resident set in MB, from the kernel. */
export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** A process's CPU time so far (user + system) in seconds, from the kernel. */
export async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Samples a process's RSS every 100 ms until stopped; answers the peak (and the median). */
export function sampleRss(pid: number): { stop: () => Promise<number>; median: () => number } {
  let peak = 0;
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const rss = await rssMb(pid).catch(() => 0);
      samples.push(rss);
      peak = Math.max(peak, rss);
      await sleep(100);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return peak;
    },
    median: () => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? 0,
  };
}

/** The RSS once load has passed: the heap shrinks after a GC or two, which idle time brings. */
export async function settledRss(pid: number): Promise<number> {
  await sleep(3000);
  return rssMb(pid);
}
