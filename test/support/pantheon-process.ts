import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(REPO_ROOT, 'bin', 'pantheon.js');

/** Environment for a child pantheon: nothing inherited that could point it at real services. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', PANTHEON_LOG_LEVEL: 'info' };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/** Environment for a child pantheon whose models are the scripted model server's OpenAI wire. */
export function modelEnv(fake: { openaiBaseUrl: string }, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return cleanEnv({ OPENAI_BASE_URL: fake.openaiBaseUrl, OPENAI_API_KEY: 'sk-test-openai-key-000000000000', PANTHEON_MODEL: 'openai:gpt-4.1-mini', ...extra });
}

export interface RunningPantheon {
  child: ChildProcess;
  url: string;
  /** The API token the server requires: PANTHEON_CONSOLE_TOKEN, else the one it generated in its data dir. */
  token: string;
  /** `{ authorization: 'Bearer <token>' }`, for fetches of `/api/*`. */
  auth: Record<string, string>;
  stdout: () => string;
  stderr: () => string;
  /** SIGTERM and wait; resolves to the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Every child still running: killed when this test process ends, however it ends (a timed-out
 * test file is ended with SIGTERM by the runner), so no server outlives the test that started it.
 */
const live = new Set<ChildProcess>();
function track(child: ChildProcess): void {
  if (live.size === 0) {
    process.once('exit', killAll);
    for (const signal of ['SIGTERM', 'SIGINT'] as const)
      process.once(signal, () => {
        killAll();
        process.exit(128 + (signal === 'SIGTERM' ? 15 : 2));
      });
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
}
function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
}

/** Runs `pantheon <args>` to completion. */
export function runCli(args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: opts.env, cwd: opts.cwd ?? REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pantheon ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

/**
 * Starts `pantheon start` on a free port and waits for its ready line. The default wait is
 * generous: a new embedded database runs initdb (about 3 s on a quiet machine, 15 s and more when
 * two test files and their servers share two CPUs); start-up speed is measured by bench/, not here.
 */
export async function startPantheonProcess(opts: { env: NodeJS.ProcessEnv; dataDir: string; cwd?: string; args?: string[]; timeoutMs?: number }): Promise<RunningPantheon> {
  const args = [CLI, 'start', '--data-dir', opts.dataDir, '--port', '0', ...(opts.args ?? [])];
  const child = spawn(process.execPath, args, { env: opts.env, cwd: opts.cwd ?? REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      // A server that never got ready is of no use to the test, and alive it would hold the test
      // process open (its pipes) until the runner's file timeout.
      child.kill('SIGKILL');
      reject(new Error(`pantheon did not get ready in time\nstdout:\n${out}\nstderr:\n${err}`));
    }, opts.timeoutMs ?? 90_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      for (const line of out.split('\n')) {
        if (!line.includes('pantheon is ready')) continue;
        try {
          const parsed = JSON.parse(line) as { url?: string };
          if (parsed.url) {
            clearTimeout(timer);
            resolveUrl(parsed.url);
          }
        } catch {
          /* partial line */
        }
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pantheon exited with ${code} before it was ready\nstdout:\n${out}\nstderr:\n${err}`));
    });
  });
  const token = opts.env.PANTHEON_CONSOLE_TOKEN ?? readGeneratedToken(resolve(opts.cwd ?? REPO_ROOT, opts.dataDir)) ?? '';
  tokens.set(url, token);
  return {
    child,
    url,
    token,
    auth: { authorization: `Bearer ${token}` },
    stdout: () => out,
    stderr: () => err,
    stop: () =>
      new Promise((resolveStop) => {
        if (child.exitCode !== null) return resolveStop(child.exitCode);
        child.once('exit', (code) => resolveStop(code));
        child.kill('SIGTERM');
      }),
  };
}

export async function tempDir(prefix = 'pantheon-test-'): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  // Retries: a stopped server's database files may still be closing (ENOTEMPTY on a busy machine).
  return { path, remove: () => rm(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }) };
}

/** Each started server's token, so the message helpers below authenticate by themselves. */
const tokens = new Map<string, string>();

/** The token `pantheon start` generated in a data dir (there is none when one was configured). */
export function readGeneratedToken(dataDir: string): string | undefined {
  const path = join(dataDir, 'console-token');
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}

/** The bearer header for a server started by `startPantheonProcess` (or a token registered with `registerToken`). */
export function authFor(url: string): Record<string, string> {
  const token = tokens.get(url);
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** For servers started in the test's own process: the helpers below then send this token to `url`. */
export function registerToken(url: string, token: string): void {
  tokens.set(url, token);
}

export interface ApiMessage {
  id: string;
  role: 'user' | 'agent' | 'system';
  author: string;
  persona: string | null;
  text: string;
  createdAt: string;
}

export async function postMessage(url: string, conversation: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/api/chat/${conversation}/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...authFor(url), ...headers }, body: JSON.stringify(body) });
}

export async function getMessages(url: string, conversation: string, headers: Record<string, string> = {}): Promise<ApiMessage[]> {
  const res = await fetch(`${url}/api/chat/${conversation}/messages`, { headers: { ...authFor(url), ...headers } });
  if (!res.ok) throw new Error(`GET messages answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { messages: ApiMessage[] }).messages;
}

/** Polls the conversation until `predicate` holds for some message. */
export async function waitForMessage(url: string, conversation: string, predicate: (m: ApiMessage) => boolean, timeoutMs = 15_000, headers: Record<string, string> = {}): Promise<ApiMessage> {
  const deadline = Date.now() + timeoutMs;
  let last: ApiMessage[] = [];
  while (Date.now() < deadline) {
    last = await getMessages(url, conversation, headers);
    const hit = last.find(predicate);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no matching message in ${conversation} within ${timeoutMs} ms; messages:\n${JSON.stringify(last, null, 2)}`);
}
