/**
 * Host health from plain Linux tools, read over SSH in one round trip: uptime and load
 * (/proc), CPUs (nproc), disks (`df -P`), memory (`free -m`).
 */

const SEP = '---pantheon---';

/** The one command host_health runs (fixed, read-only: it does not go through the command policy). */
export const HEALTH_COMMAND = ['cat /proc/uptime', 'cat /proc/loadavg', 'nproc', 'df -P -x tmpfs -x devtmpfs -x overlay -x squashfs 2>/dev/null || df -P', 'free -m'].join(`; echo ${SEP}; `);

/** The command disk checks run. */
export const DISK_COMMAND = 'df -P -x tmpfs -x devtmpfs -x overlay -x squashfs 2>/dev/null || df -P';

export interface DiskUsage {
  filesystem: string;
  mount: string;
  usedPercent: number;
  availableKb: number;
}

export interface HostHealth {
  uptimeSeconds?: number;
  load?: [number, number, number];
  cpus?: number;
  disks: DiskUsage[];
  memory?: { totalMb: number; usedMb: number; availableMb: number };
}

/** `df -P` output (POSIX format: one line per filesystem). */
export function parseDf(lines: string[]): DiskUsage[] {
  const out: DiskUsage[] = [];
  for (const line of lines) {
    const m = /^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)%\s+(.+)$/.exec(line.trim());
    if (m) out.push({ filesystem: m[1]!, mount: m[6]!, usedPercent: Number(m[5]), availableKb: Number(m[4]) });
  }
  return out;
}

export function parseHealth(lines: string[]): HostHealth {
  const sections: string[][] = [[]];
  for (const line of lines) {
    if (line.trim() === SEP) sections.push([]);
    else sections.at(-1)!.push(line);
  }
  const [uptime = [], loadavg = [], nproc = [], df = [], free = []] = sections;
  const health: HostHealth = { disks: parseDf(df) };
  const up = Number(uptime[0]?.split(/\s+/)[0]);
  if (Number.isFinite(up)) health.uptimeSeconds = up;
  const load = loadavg[0]?.split(/\s+/).slice(0, 3).map(Number);
  if (load?.length === 3 && load.every(Number.isFinite)) health.load = load as [number, number, number];
  const cpus = Number(nproc[0]);
  if (Number.isFinite(cpus) && cpus > 0) health.cpus = cpus;
  const mem = free
    .find((l) => l.startsWith('Mem:'))
    ?.split(/\s+/)
    .slice(1)
    .map(Number);
  if (mem && mem.length >= 2) health.memory = { totalMb: mem[0]!, usedMb: mem[1]!, availableMb: mem[5] ?? mem[2] ?? 0 };
  return health;
}

function human(kb: number): string {
  if (kb >= 1024 * 1024) return `${(kb / 1024 / 1024).toFixed(1)} GiB`;
  if (kb >= 1024) return `${Math.round(kb / 1024)} MiB`;
  return `${kb} KiB`;
}

function uptimeText(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : `${m} min`;
}

/** One paragraph a person can read at a glance; `⚠` marks what needs attention. */
export function summariseHealth(host: string, h: HostHealth, diskThreshold = 90): string {
  const parts: string[] = [];
  if (h.uptimeSeconds !== undefined) parts.push(`up ${uptimeText(h.uptimeSeconds)}`);
  if (h.load) {
    const busy = h.cpus && h.load[0] > h.cpus ? ' ⚠' : '';
    parts.push(`load ${h.load.join(' ')}${h.cpus ? ` on ${h.cpus} CPU${h.cpus === 1 ? '' : 's'}` : ''}${busy}`);
  }
  if (h.memory && h.memory.totalMb > 0) {
    const usedPct = Math.round(((h.memory.totalMb - h.memory.availableMb) / h.memory.totalMb) * 100);
    parts.push(`memory ${usedPct}% used (${human(h.memory.availableMb * 1024)} available of ${human(h.memory.totalMb * 1024)})${usedPct >= diskThreshold ? ' ⚠' : ''}`);
  }
  const disks = h.disks.map((d) => `${d.mount} ${d.usedPercent}% (${human(d.availableKb)} free)${d.usedPercent >= diskThreshold ? ' ⚠' : ''}`);
  if (disks.length) parts.push(`disk: ${disks.join(', ')}`);
  return `${host}: ${parts.join(' · ') || 'no health data (are /proc, df and free available?)'}`;
}
