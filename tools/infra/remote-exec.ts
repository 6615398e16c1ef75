import type { ClientChannel } from 'ssh2';
import { HostKeyError, type SshPool } from './ssh-pool.js';

export type OutputStream = 'stdout' | 'stderr';

export interface RemoteRun {
  /** Resolves when the remote process has ended (or was given up on). */
  done: Promise<RemoteResult>;
  /** Signals the remote process group (TERM, then KILL if it lingers). */
  cancel(): void;
}

export interface RemoteResult {
  exitCode: number | null;
  signal: string | null;
  /** The process id of the remote command (the leader of its process group). */
  pid?: number;
  timedOut: boolean;
  cancelled: boolean;
  /** The connection dropped before the command said how it ended. */
  lost: boolean;
}

export interface RemoteRunOptions {
  timeoutMs: number;
  onLine?(stream: OutputStream, line: string): void;
  onPid?(pid: number): void;
  /** Seconds between TERM and KILL. */
  killGraceMs?: number;
}

/** Lines longer than this are cut (a minified file cat'ed by mistake must not flood a chat). */
const MAX_LINE_CHARS = 4000;
const PID_MARK = '__PANTHEON_PID__';

/** POSIX single quoting. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command as sent: a shell that prints its own pid first and then becomes the command.
 * sshd starts every session in a new session and process group (setsid), so that pid is the
 * group id, and `kill -- -pid` reaches everything the command started. OpenSSH ignores channel
 * signal requests from clients in most setups, hence the pid.
 */
function wrapCommand(command: string): string {
  return `exec /bin/sh -c ${shellQuote(`echo ${PID_MARK}$$; exec /bin/sh -c ${shellQuote(command)}`)}`;
}

/** Splits a stream into lines; the last partial line waits for more (or for `flush`). */
class LineSplitter {
  private partial = '';
  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.emit(clip(line.replace(/\r$/, '')));
    if (this.partial.length > MAX_LINE_CHARS) {
      this.emit(clip(this.partial));
      this.partial = '';
    }
  }

  flush(): void {
    if (this.partial) this.emit(clip(this.partial));
    this.partial = '';
  }
}

function clip(line: string): string {
  return line.length <= MAX_LINE_CHARS ? line : `${line.slice(0, MAX_LINE_CHARS)}… [line cut at ${MAX_LINE_CHARS} characters]`;
}

function openChannel(client: import('ssh2').Client, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    try {
      client.exec(command, (err, channel) => (err ? reject(err) : resolve(channel)));
    } catch (err) {
      reject(err);
    }
  });
}

/**
 * Runs `command` on `host` over a pooled connection, streaming its output line by line.
 * A connection that turns out dead when the channel is opened is replaced once.
 */
export async function runRemote(pool: SshPool, host: string, command: string, opts: RemoteRunOptions): Promise<RemoteRun> {
  let lease = await pool.acquire(host);
  let channel: ClientChannel;
  try {
    channel = await openChannel(lease.client, wrapCommand(command));
  } catch (err) {
    lease.discard();
    lease.release();
    if (err instanceof HostKeyError) throw err;
    lease = await pool.acquire(host);
    try {
      channel = await openChannel(lease.client, wrapCommand(command));
    } catch (again) {
      lease.discard();
      lease.release();
      throw new Error(`could not start the command on ${host}: ${(again as Error).message}`);
    }
  }
  channel.end(); // no stdin: a command waiting for input sees end-of-file instead of hanging

  const result: RemoteResult = { exitCode: null, signal: null, timedOut: false, cancelled: false, lost: false };
  let pendingKill = false;
  let killTimer: NodeJS.Timeout | undefined;
  let giveUpTimer: NodeJS.Timeout | undefined;
  const grace = opts.killGraceMs ?? 2000;

  const signalGroup = (signal: 'TERM' | 'KILL') => {
    if (!result.pid) {
      pendingKill = true;
      return;
    }
    void killRemote(pool, host, result.pid, signal).catch(() => {});
  };
  const stop = () => {
    signalGroup('TERM');
    killTimer ??= setTimeout(() => signalGroup('KILL'), grace);
    // A process that ignores even KILL (or a wedged connection): stop waiting for it.
    giveUpTimer ??= setTimeout(() => channel.close(), grace * 3);
  };

  const stdout = new LineSplitter((line) => {
    if (result.pid === undefined && line.startsWith(PID_MARK)) {
      result.pid = Number(line.slice(PID_MARK.length)) || undefined;
      if (result.pid) opts.onPid?.(result.pid);
      if (pendingKill) stop();
      return;
    }
    opts.onLine?.('stdout', line);
  });
  const stderr = new LineSplitter((line) => opts.onLine?.('stderr', line));
  channel.on('data', (d: Buffer) => stdout.push(d));
  channel.stderr.on('data', (d: Buffer) => stderr.push(d));

  let exited = false;
  channel.on('exit', (code: number | null, signal?: string) => {
    exited = true;
    result.exitCode = typeof code === 'number' ? code : null;
    result.signal = signal ?? null;
  });

  const timeout = setTimeout(() => {
    result.timedOut = true;
    stop();
  }, opts.timeoutMs);

  const done = new Promise<RemoteResult>((resolve) => {
    channel.on('close', () => {
      clearTimeout(timeout);
      clearTimeout(killTimer);
      clearTimeout(giveUpTimer);
      stdout.flush();
      stderr.flush();
      if (!exited && !result.cancelled && !result.timedOut) result.lost = true;
      lease.release();
      resolve(result);
    });
  });
  return {
    done,
    cancel: () => {
      if (result.cancelled) return;
      result.cancelled = true;
      stop();
    },
  };
}

/** Signals a remote process group over a second channel of the same connection. */
async function killRemote(pool: SshPool, host: string, pid: number, signal: 'TERM' | 'KILL'): Promise<void> {
  const lease = await pool.acquire(host);
  try {
    const channel = await openChannel(lease.client, `kill -${signal} -- -${pid} 2>/dev/null || kill -${signal} ${pid} 2>/dev/null; true`);
    channel.end();
    channel.resume();
    await new Promise<void>((resolve) => channel.on('close', () => resolve()));
  } finally {
    lease.release();
  }
}

/** Runs a short command and collects its output (for health checks and probes). */
export async function runQuick(
  pool: SshPool,
  host: string,
  command: string,
  timeoutMs = 20_000,
  maxLines = 500,
): Promise<{ exitCode: number | null; lines: string[]; errors: string[]; timedOut: boolean }> {
  const lines: string[] = [];
  const errors: string[] = [];
  const run = await runRemote(pool, host, command, {
    timeoutMs,
    onLine: (stream, line) => {
      const into = stream === 'stdout' ? lines : errors;
      if (into.length < maxLines) into.push(line);
    },
  });
  const r = await run.done;
  if (r.lost) throw new Error(`the connection to ${host} was lost while running \`${command}\``);
  return { exitCode: r.exitCode, lines, errors, timedOut: r.timedOut };
}
