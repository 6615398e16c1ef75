import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

/**
 * User-mode networking for a sandbox's own network namespace: slirp4netns gives it a tap device
 * behind a NAT in Pantheon's process, so the command reaches the outside world as an ordinary
 * program would, but never the host's loopback (--disable-host-loopback). The host's own and
 * link-local addresses are made unreachable inside the namespace (bubblewrap.ts). slirp4netns
 * sandboxes itself (its own mount namespace, no capabilities, a seccomp filter).
 *
 * It only creates the tap device: the sandbox's first step configures it (SLIRP_TAP_SETUP).
 * With --configure slirp4netns would also bring `lo` up, racing bubblewrap's own loopback set-up
 * (which adds 127.0.0.1 exclusively and dies when the address is already there).
 */
export const SLIRP_TAP_SETUP = ['link set tap0 mtu 65520', 'link set tap0 up', 'addr add 10.0.2.100/24 dev tap0', 'route add default via 10.0.2.2 dev tap0'] as const;

export interface Egress {
  stop(): void;
}

/** Attaches slirp4netns to the network namespace of `pid`; resolves once it is configured. */
export function attachEgress(slirp: string, pid: number, timeoutMs = 10_000): Promise<Egress> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      slirp,
      ['--mtu=65520', '--disable-host-loopback', '--enable-sandbox', '--enable-seccomp', '--ready-fd=3', `--userns-path=/proc/${pid}/ns/user`, '--netns-type=path', `/proc/${pid}/ns/net`, 'tap0'],
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env: {} },
    );
    let stderr = '';
    let settled = false;
    const stop = () => {
      try {
        child.kill('SIGKILL');
      } catch {
        // gone already
      }
    };
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stop();
      reject(new Error(`slirp4netns could not give the sandbox a network: ${why}${stderr.trim() ? ` (${stderr.trim().slice(0, 500)})` : ''}`));
    };
    const timer = setTimeout(() => fail(`not ready within ${timeoutMs} ms`), timeoutMs);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 4000) stderr += d;
    });
    (child.stdio[3] as Readable).on('data', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ stop });
    });
    child.on('error', (err) => fail(err.message));
    child.on('exit', (code, signal) => fail(`it exited (${signal ?? `code ${code}`})`));
  });
}
