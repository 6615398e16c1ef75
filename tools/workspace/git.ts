import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess, type RunResult } from '../sandbox/process.js';
import { runInWorkspace, type WorkspacePlace, type WorkspaceSandboxing } from './sandboxed.js';

/**
 * Pantheon's git, in two halves that never meet (docs/security.md):
 *
 * - `gitInWorkspace`: everything that reads the checkout (status, add, commit, diff, grep, apply,
 *   the checkout itself) runs in the sandbox, offline, like any command the persona runs. The
 *   repository's configuration, attributes and hooks are the repository's business there: a
 *   filter or hook it sets up runs contained, and never sees a credential.
 * - `gitTransport`: everything that talks to GitHub runs on the host in Pantheon's own bare
 *   repository for the workspace (`.pantheon/<name>.git`), which commands never see, with no
 *   system or global configuration. So nothing a command writes (`.git/config`'s `http.proxy`,
 *   `url.*.insteadOf`, `credential.*`, hooks, includes, `core.sshCommand`) can redirect, observe
 *   or run during a clone, fetch or push. Commits reach the transport repository through
 *   `git upload-pack`, which runs in the sandbox too, and are checked (fsck) on arrival.
 */

/** On every git command Pantheon runs: no hooks, no fsmonitor, no signing. */
const SAFE_CONFIG = ['-c', 'core.hooksPath=/dev/null', '-c', 'commit.gpgsign=false', '-c', 'core.fsmonitor=false'];

/** Only on the host: http(s) to GitHub and nothing else; never a local path, ssh or ext. */
const TRANSPORT_CONFIG = ['-c', 'protocol.allow=never', '-c', 'protocol.https.allow=always', '-c', 'protocol.http.allow=always', '-c', 'core.askPass=', '-c', 'http.followRedirects=false'];

/** `-c key=value` pairs, in order. */
export type GitConfig = ReadonlyArray<readonly [string, string]>;

const configArgs = (config: GitConfig = []) => config.flatMap(([k, v]) => ['-c', `${k}=${v}`]);

export interface GitInWorkspaceOptions {
  timeoutMs?: number;
  input?: string;
  config?: GitConfig;
  /** Host paths the command may read (the transport repository, to fetch from). */
  readOnly?: string[];
}

/** git in the workspace's sandbox, offline; never throws on exit codes. */
export function gitInWorkspace(s: WorkspaceSandboxing, at: WorkspacePlace, args: readonly string[], o: GitInWorkspaceOptions = {}): Promise<RunResult> {
  return runInWorkspace(s, at, ['git', ...SAFE_CONFIG, ...configArgs(o.config), ...args], {
    timeoutMs: o.timeoutMs ?? 120_000,
    input: o.input,
    readOnly: o.readOnly,
    network: 'none',
    env: { GIT_TERMINAL_PROMPT: '0' },
    headChars: 200_000,
    tailChars: 200_000,
  });
}

/** `gitInWorkspace`, returning trimmed stdout; throws with git's own words on failure. */
export async function gitInWorkspaceOk(s: WorkspaceSandboxing, at: WorkspacePlace, args: readonly string[], o: GitInWorkspaceOptions = {}): Promise<string> {
  return ok(args, await gitInWorkspace(s, at, args, o));
}

/** The environment of host git: no user, system or global configuration, no prompts. */
function transportEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH || '/usr/local/bin:/usr/bin:/bin',
    HOME: '/nonexistent',
    LANG: 'C.UTF-8',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
  };
}

export interface GitTransportOptions {
  /** The transport repository (or where `init` creates it). */
  cwd: string;
  timeoutMs?: number;
  config?: GitConfig;
}

/** git on the host, in Pantheon's own transport repository; never throws on exit codes. */
export function gitTransport(args: readonly string[], o: GitTransportOptions): Promise<RunResult> {
  return runProcess('git', [...SAFE_CONFIG, ...TRANSPORT_CONFIG, ...configArgs(o.config), ...args], {
    cwd: o.cwd,
    env: transportEnv(),
    timeoutMs: o.timeoutMs ?? 120_000,
  });
}

export async function gitTransportOk(args: readonly string[], o: GitTransportOptions): Promise<string> {
  return ok(args, await gitTransport(args, o));
}

function ok(args: readonly string[], r: RunResult): string {
  if (r.code !== 0) throw new Error(`git ${args[0]} failed${r.timedOut ? ' (timed out)' : ''}: ${(r.stderr || r.stdout).trim() || `exit code ${r.code}`}`);
  return r.stdout.trim();
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Copies `branch` of the workspace into the transport repository as `refs/pantheon/outgoing/<branch>`.
 * The transport repository fetches from the checkout with `git upload-pack` running in the
 * sandbox (so the checkout's configuration is read only there), and checks every object it takes.
 */
export async function importBranch(s: WorkspaceSandboxing, at: WorkspacePlace, transport: string, branch: string): Promise<void> {
  const sandbox = s.resolved.sandbox;
  if (!sandbox) throw s.resolved.problem ?? new Error('no sandbox');
  const pass = await sandbox.passthrough({ argv: ['git', ...SAFE_CONFIG, 'upload-pack'], workspace: at.dir, cwd: at.dir, home: at.home, diskQuotaBytes: s.quotaBytes });
  const dir = await mkdtemp(join(tmpdir(), 'pantheon-upload-pack-'));
  try {
    const wrapper = join(dir, 'upload-pack');
    await writeFile(wrapper, `#!/bin/sh\nexec ${pass.argv.map(shellQuote).join(' ')} "$@"\n`, { mode: 0o700 });
    await chmod(wrapper, 0o700);
    await gitTransportOk(['fetch', '--no-tags', '--no-write-fetch-head', `--upload-pack=${wrapper}`, at.dir, `+refs/heads/${branch}:refs/pantheon/outgoing/${branch}`], {
      cwd: transport,
      timeoutMs: 300_000,
      config: [
        ['protocol.file.allow', 'always'],
        ['fetch.fsckObjects', 'true'],
        ['transfer.fsckObjects', 'true'],
      ],
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
    await pass.dispose();
  }
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
