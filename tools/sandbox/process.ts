import { spawn } from 'node:child_process';
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

export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Characters kept from the start and from the end of the combined output. */
  headChars?: number;
  tailChars?: number;
  input?: string;
}

/**
 * Runs a program in its own process group, so a timeout stops everything it started (a test
 * runner's children too). Output is capped; known secrets are scrubbed from it.
 */
export function runProcess(command: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const combined = new CappedOutput(opts.headChars ?? 8000, opts.tailChars ?? 8000);
    const stdout = new CappedOutput(500_000, 500_000);
    const stderr = new CappedOutput(100_000, 100_000);
    let timedOut = false;
    const kill = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill('SIGTERM');
      setTimeout(() => kill('SIGKILL'), 2000).unref();
    }, opts.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout.push(d), combined.push(d)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr.push(d), combined.push(d)));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // Whatever the command left running in its group goes too.
      kill('SIGKILL');
      resolvePromise({
        code,
        signal,
        timedOut,
        stdout: scrubSecrets(stdout.toString()),
        stderr: scrubSecrets(stderr.toString()),
        output: scrubSecrets(combined.toString()),
        durationMs: performance.now() - started,
      });
    });
  });
}
