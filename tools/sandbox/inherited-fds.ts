import { closeSync, readdirSync, readFileSync } from 'node:fs';

/** O_CLOEXEC in /proc/<pid>/fdinfo's octal `flags:`. */
const O_CLOEXEC = 0o2000000;

/**
 * Closes the file descriptors Pantheon inherited open across exec (a supervisor's pipe, a socket
 * passed by systemd) that it never uses: Node opens its own close-on-exec, but inherited ones
 * would pass on to every command it starts, and a sandboxed command could then write into that
 * pipe or accept on that socket. Standard input, output and error, and Node's IPC channel, stay.
 * Linux only (elsewhere there is no /proc to ask); returns the descriptors it closed.
 */
export function closeInheritedFds(env: NodeJS.ProcessEnv = process.env): number[] {
  if (process.platform !== 'linux') return [];
  const keep = new Set([0, 1, 2]);
  if (env.NODE_CHANNEL_FD) keep.add(Number(env.NODE_CHANNEL_FD));
  const closed: number[] = [];
  let fds: number[];
  try {
    fds = readdirSync('/proc/self/fd')
      .map(Number)
      .filter((fd) => Number.isInteger(fd) && !keep.has(fd));
  } catch {
    return [];
  }
  for (const fd of fds) {
    try {
      const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
      if (!flags || (parseInt(flags[1]!, 8) & O_CLOEXEC) !== 0) continue;
      closeSync(fd);
      closed.push(fd);
    } catch {
      // gone meanwhile (the directory listing's own descriptor), or not ours to close
    }
  }
  return closed;
}
