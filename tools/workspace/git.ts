import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess, sandboxEnv, type RunResult } from '../sandbox/process.js';

/**
 * Settings on every git command Pantheon runs itself. Hooks are off: the persona can write
 * files in its checkout, and a hook it wrote must not run inside Pantheon's own git commands
 * (least of all a push, while the credential helper is there).
 */
const SAFE_CONFIG = ['-c', 'core.hooksPath=/dev/null', '-c', 'commit.gpgsign=false', '-c', 'core.fsmonitor=false'];

/** `-c key=value` pairs, in order. */
export type GitConfig = ReadonlyArray<readonly [string, string]>;

export interface GitOptions {
  cwd: string;
  /** The sandbox HOME (git reads no personal config of the host's user). */
  home: string;
  timeoutMs?: number;
  input?: string;
  /** Extra `-c key=value` settings, in order (a key may repeat). */
  config?: GitConfig;
}

/** Runs git with Pantheon's safe settings and the sandbox environment; never throws on exit codes. */
export function git(args: readonly string[], opts: GitOptions): Promise<RunResult> {
  const extra = (opts.config ?? []).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  return runProcess('git', [...SAFE_CONFIG, ...extra, ...args], {
    cwd: opts.cwd,
    env: { ...sandboxEnv(opts.home), GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' },
    timeoutMs: opts.timeoutMs ?? 120_000,
    input: opts.input,
  });
}

/** Runs git and returns trimmed stdout; throws with git's own words on failure. */
export async function gitOk(args: readonly string[], opts: GitOptions): Promise<string> {
  const r = await git(args, opts);
  if (r.code !== 0) throw new Error(`git ${args[0]} failed${r.timedOut ? ' (timed out)' : ''}: ${(r.stderr || r.stdout).trim() || `exit code ${r.code}`}`);
  return r.stdout.trim();
}

/**
 * Runs `fn` with git settings that authenticate to GitHub as the persona for one command.
 *
 * The token goes to git through a credential helper: a tiny script that reads it from a file
 * in a fresh private (0700) temporary directory and hands it over only when git asks about
 * the repository's own host and protocol. Both are deleted when the command ends. So the
 * token is never in the remote URL (`git remote -v` shows none), never in any command's
 * environment, and never left on disk; other helpers configured anywhere are switched off.
 */
export async function withGitCredentials<T>(token: string, remoteUrl: string, fn: (config: GitConfig) => Promise<T>): Promise<T> {
  const url = new URL(remoteUrl);
  if (url.username || url.password) throw new Error('refusing a remote URL with credentials in it');
  const protocol = url.protocol.replace(/:$/, '');
  if (!/^https?$/.test(protocol) || !/^[A-Za-z0-9.:[\]-]+$/.test(url.host)) throw new Error(`unsupported remote URL ${remoteUrl}: expected an http(s) clone URL`);
  const dir = await mkdtemp(join(tmpdir(), 'pantheon-git-'));
  try {
    const tokenFile = join(dir, 'token');
    if (tokenFile.includes("'")) throw new Error(`the temporary directory ${dir} has a quote in its path; set TMPDIR to a plain path`);
    const helper = join(dir, 'credential-helper');
    await writeFile(tokenFile, token, { mode: 0o600 });
    await writeFile(helper, helperScript(tokenFile, protocol, url.host), { mode: 0o700 });
    await chmod(helper, 0o700);
    // An empty value first resets any helper from other config; ours is then the only one.
    return await fn([
      ['credential.helper', ''],
      ['credential.helper', helper],
      ['credential.useHttpPath', 'false'],
      ['http.followRedirects', 'false'],
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The helper: answers `get` for one protocol and host only; `store`/`erase` do nothing. */
function helperScript(tokenFile: string, protocol: string, host: string): string {
  return `#!/bin/sh
# Pantheon: hands a persona's GitHub token to git for one command (see tools/workspace/git.ts).
[ "$1" = get ] || exit 0
proto=; host=
while IFS= read -r line; do
  case "$line" in
    protocol=*) proto="\${line#protocol=}" ;;
    host=*) host="\${line#host=}" ;;
    '') break ;;
  esac
done
[ "$proto" = '${protocol}' ] && [ "$host" = '${host}' ] || exit 0
printf 'username=x-access-token\\npassword=%s\\n' "$(cat '${tokenFile}')"
`;
}
