import { spawn, type ChildProcess } from 'node:child_process';
import { scrubSecrets } from '../../core/log.js';

/**
 * The whole environment of a command a persona runs: a PATH to find tools, a sandbox HOME,
 * a locale and CI=1. Nothing else of Pantheon's environment reaches it: no tokens, no API
 * keys, no proxies, no git credentials.
 */
export function sandboxEnv(home: string, from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    PATH: from.PATH || '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    LANG: from.LANG || 'C.UTF-8',
    CI: '1',
  };
}

/**
 * Keeps the start and the end of a long output, which is where the command line, the first
 * error and the summary are; the middle is counted, not kept.
 */
export class CappedOutput {
  private head = '';
  private tail = '';
  private total = 0;

  constructor(
    private readonly headChars: number,
    private readonly tailChars: number,
  ) {}

  push(chunk: string): void {
    this.total += chunk.length;
    if (this.head.length < this.headChars) {
      const take = this.headChars - this.head.length;
      this.head += chunk.slice(0, take);
      chunk = chunk.slice(take);
    }
    if (chunk) this.tail = (this.tail + chunk).slice(-this.tailChars);
  }

  get length(): number {
    return this.total;
  }

  toString(): string {
    const omitted = this.total - this.head.length - this.tail.length;
    return omitted > 0 ? `${this.head}\n[… ${omitted} characters omitted …]\n${this.tail}` : this.head + this.tail;
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they came, capped head and tail. */
  output: string;
  durationMs: number;
}

/** How long output may stay open after the command itself exited. */
const EXIT_GRACE_MS = 1000;

export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Characters kept from the start and from the end of the combined output. */
  headChars?: number;
  tailChars?: number;
  input?: string;
  /** Output read before the command is stopped (bytes); unlimited when unset. */
  maxOutputBytes?: number;
}

/** Extra hooks of a supervised process (the sandbox backends use them). */
export interface SuperviseHooks {
  /** More stdio entries after stdin, stdout and stderr (fd 3, 4, ...). */
  extraStdio?: Array<'pipe' | 'ignore' | number>;
  /** Called once spawned; the command's output is read meanwhile. A throw stops it. */
  started?(child: ChildProcess): Promise<void> | void;
  /** Stops everything the command started (default: SIGKILL to its process group). */
  kill?(): void;
  /** Called every `intervalMs` while it runs: a string stops it, and is the reason. */
  watch?: { intervalMs: number; check(): Promise<string | undefined> };
}

/** What stopped a supervised process early, besides its own exit. */
type StopReason = { kind: 'timeout' } | { kind: 'output' } | { kind: 'watch'; reason: string } | { kind: 'setup'; error: Error };

export interface SupervisedResult extends RunResult {
  stopped?: StopReason;
}

/**
 * Runs a program in its own process group, so a timeout stops everything it started (a test
 * runner's children too). Output is capped; known secrets are scrubbed from it.
 */
export async function runProcess(command: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  return supervise(command, args, opts);
}

/** `runProcess` with hooks: extra fds, a set-up step after spawning, a watcher, a custom kill. */
export function supervise(command: string, args: readonly string[], opts: RunOptions, hooks: SuperviseHooks = {}): Promise<SupervisedResult> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe', ...(hooks.extraStdio ?? [])],
    });
    const combined = new CappedOutput(opts.headChars ?? 8000, opts.tailChars ?? 8000);
    const stdout = new CappedOutput(500_000, 500_000);
    const stderr = new CappedOutput(100_000, 100_000);
    let stopped: StopReason | undefined;
    let outputBytes = 0;
    let closed = false;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const stop = (reason: StopReason) => {
      if (closed) return;
      stopped ??= reason;
      try {
        hooks.kill?.();
      } catch {
        // best effort: the group kill follows
      }
      if (!hooks.kill) {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
        setTimeout(killGroup, 2000).unref();
      } else {
        killGroup();
      }
    };
    const timer = setTimeout(() => stop({ kind: 'timeout' }), opts.timeoutMs);
    let watching = false;
    const watcher = hooks.watch
      ? setInterval(() => {
          if (watching || closed) return;
          watching = true;
          hooks.watch!.check().then(
            (reason) => {
              watching = false;
              if (reason) stop({ kind: 'watch', reason });
            },
            () => {
              watching = false;
            },
          );
        }, hooks.watch.intervalMs)
      : undefined;
    const take = (sink: CappedOutput) => (d: string) => {
      outputBytes += Buffer.byteLength(d);
      if (opts.maxOutputBytes !== undefined && outputBytes > opts.maxOutputBytes) {
        stop({ kind: 'output' });
        return;
      }
      sink.push(d);
      combined.push(d);
    };
    child.stdout!.setEncoding('utf8').on('data', take(stdout));
    child.stderr!.setEncoding('utf8').on('data', take(stderr));
    child.stdin!.on('error', () => {});
    child.on('error', (err) => {
      closed = true;
      clearTimeout(timer);
      if (watcher) clearInterval(watcher);
      reject(err);
    });
    // A process that left its own group (setsid) may hold the output open after the command ended:
    // the result does not wait for it.
    child.on('exit', () => {
      setTimeout(() => {
        if (closed) return;
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, EXIT_GRACE_MS).unref();
    });
    child.on('close', (code, signal) => {
      closed = true;
      clearTimeout(timer);
      if (watcher) clearInterval(watcher);
      // Whatever the command left running in its group goes too.
      killGroup();
      resolvePromise({
        code,
        signal,
        timedOut: stopped?.kind === 'timeout',
        stdout: scrubSecrets(stdout.toString()),
        stderr: scrubSecrets(stderr.toString()),
        output: scrubSecrets(combined.toString()),
        durationMs: performance.now() - started,
        stopped,
      });
    });
    const begin = async () => {
      if (child.pid === undefined) return; // 'error' follows
      await hooks.started?.(child);
      child.stdin!.end(opts.input ?? '');
    };
    begin().catch((err: unknown) => stop({ kind: 'setup', error: err instanceof Error ? err : new Error(String(err)) }));
  });
}
