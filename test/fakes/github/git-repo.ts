/**
 * Git operations on the fake's bare repositories: creation, refs, diffs, changed files and
 * server-side merges (plumbing only, no work tree).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { User } from './types.js';

/** Isolated from the host's git configuration (signing, hooks, templates). */
export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: os.tmpdir(),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    LANG: 'C',
    ...extra,
  };
}

export function identityEnv(user: Pick<User, 'id' | 'login'>): Record<string, string> {
  const email = `${user.id}+${user.login}@users.noreply.github.com`;
  return { GIT_AUTHOR_NAME: user.login, GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_NAME: user.login, GIT_COMMITTER_EMAIL: email };
}

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runGit(gitDir: string, args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: gitDir, env: gitEnv({ GIT_DIR: gitDir, ...opts.env }) });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.on('error', () => {}); // git may exit without reading stdin
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs git and returns stdout, throwing with stderr on failure. */
export async function git(gitDir: string, args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Promise<string> {
  const result = await runGit(gitDir, args, opts);
  if (result.code !== 0) throw new Error(`git ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

/** A bare repository whose default branch holds `files` in one commit by `owner`. Returns that commit. */
export async function createBareRepo(gitDir: string, owner: User, files: Record<string, string>, branch: string): Promise<string> {
  await mkdir(gitDir, { recursive: true });
  await git(gitDir, ['init', '--quiet', '--bare', `--initial-branch=${branch}`, gitDir]);
  await git(gitDir, ['config', 'http.receivepack', 'true']);
  const work = await mkdtemp(path.join(os.tmpdir(), 'fake-github-seed-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      const file = path.join(work, name);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content);
    }
    const env = { ...identityEnv(owner), GIT_WORK_TREE: work, GIT_INDEX_FILE: path.join(work, '..', `${path.basename(work)}.index`) };
    await git(gitDir, ['add', '-A'], { env });
    await git(gitDir, ['commit', '--quiet', '--allow-empty', '-m', 'Initial commit'], { env });
    await rm(env.GIT_INDEX_FILE, { force: true });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return (await git(gitDir, ['rev-parse', branch])).trim();
}

/** Branch name → tip sha. */
export async function branches(gitDir: string): Promise<Map<string, string>> {
  const out = await git(gitDir, ['for-each-ref', '--format=%(refname:lstrip=2) %(objectname)', 'refs/heads']);
  const map = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [name, sha] = line.split(' ');
    if (name && sha) map.set(name, sha);
  }
  return map;
}

/** The commit `ref` names, or null. */
export async function resolveCommit(gitDir: string, ref: string): Promise<string | null> {
  const result = await runGit(gitDir, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  return result.code === 0 ? result.stdout.trim() : null;
}

export async function mergeBase(gitDir: string, a: string, b: string): Promise<string> {
  const result = await runGit(gitDir, ['merge-base', a, b]);
  return result.code === 0 ? result.stdout.trim() : a;
}

export async function unifiedDiff(gitDir: string, base: string, head: string): Promise<string> {
  return git(gitDir, ['diff', '--no-color', '-M', await mergeBase(gitDir, base, head), head]);
}

export async function formatPatch(gitDir: string, base: string, head: string): Promise<string> {
  return git(gitDir, ['format-patch', '--stdout', '--no-color', `${await mergeBase(gitDir, base, head)}..${head}`]);
}

export async function commitCount(gitDir: string, base: string, head: string): Promise<number> {
  return Number((await git(gitDir, ['rev-list', '--count', `${base}..${head}`])).trim()) || 0;
}

/** One entry of `GET /pulls/{n}/files`. */
export interface ChangedFile {
  filename: string;
  previous_filename?: string;
  status: 'added' | 'removed' | 'modified' | 'renamed' | 'copied';
  additions: number;
  deletions: number;
  changes: number;
  /** Blob sha on the head side (the base side for removed files). */
  sha: string;
  /** Hunks from the first `@@` on; absent for binary files. */
  patch?: string;
}

const STATUS: Record<string, ChangedFile['status']> = { A: 'added', D: 'removed', M: 'modified', R: 'renamed', C: 'copied', T: 'modified' };

/**
 * Changed files between the merge base and `head`, in three git calls whatever the size (raw,
 * numstat and the full diff list files in the same order, so they are zipped by index).
 */
export async function changedFiles(gitDir: string, base: string, head: string): Promise<ChangedFile[]> {
  const from = await mergeBase(gitDir, base, head);
  const [raw, numstat, diff] = await Promise.all([
    git(gitDir, ['diff', '--raw', '-z', '-M', '--no-abbrev', from, head]),
    git(gitDir, ['diff', '--numstat', '-z', '-M', from, head]),
    git(gitDir, ['diff', '--no-color', '-M', from, head]),
  ]);
  // --raw -z: ":mode mode sha sha S\0path\0" (a second path for renames and copies).
  const files: ChangedFile[] = [];
  const rawParts = raw.split('\0');
  for (let i = 0; i < rawParts.length && rawParts[i].startsWith(':'); ) {
    const [, , srcSha, dstSha, statusField] = rawParts[i].slice(1).split(' ');
    const code = statusField[0];
    const first = rawParts[i + 1];
    const second = code === 'R' || code === 'C' ? rawParts[i + 2] : undefined;
    i += second !== undefined ? 3 : 2;
    const file: ChangedFile = { filename: second ?? first, status: STATUS[code] ?? 'modified', additions: 0, deletions: 0, changes: 0, sha: code === 'D' ? srcSha : dstSha };
    if (second !== undefined) file.previous_filename = first;
    files.push(file);
  }
  // --numstat -z: "adds\tdels\tpath\0", or "adds\tdels\t\0old\0new\0" for renames; "-" for binary.
  const stats: Array<[string, string]> = [];
  const statParts = numstat.split('\0');
  for (let i = 0; i < statParts.length; i++) {
    const m = /^(\d+|-)\t(\d+|-)\t(.*)$/s.exec(statParts[i]);
    if (!m) continue;
    stats.push([m[1], m[2]]);
    if (m[3] === '') i += 2;
  }
  const chunks = diff.split(/^diff --git /m).slice(1);
  files.forEach((file, i) => {
    const [adds, dels] = stats[i] ?? ['0', '0'];
    const binary = adds === '-';
    file.additions = binary ? 0 : Number(adds);
    file.deletions = binary ? 0 : Number(dels);
    file.changes = file.additions + file.deletions;
    const chunk = chunks[i] ?? '';
    const at = chunk.indexOf('\n@@');
    if (!binary && at >= 0) file.patch = chunk.slice(at + 1).replace(/\n$/, '');
  });
  return files;
}

/** The hunk of `patch` containing `line` on `side`, cut after that line (GitHub's `diff_hunk`), or null. */
export function hunkFor(patch: string | undefined, line: number, side: 'LEFT' | 'RIGHT'): string | null {
  if (!patch) return null;
  const lines = patch.split('\n');
  let hunkStart = -1;
  let oldLine = 0;
  let newLine = 0;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i];
    const header = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(text);
    if (header) {
      hunkStart = i;
      oldLine = Number(header[1]);
      newLine = Number(header[2]);
      continue;
    }
    if (hunkStart < 0 || text.startsWith('\\')) continue;
    const kind = text[0];
    const here = side === 'RIGHT' ? (kind === '-' ? null : newLine) : kind === '+' ? null : oldLine;
    if (here === line) return lines.slice(hunkStart, i + 1).join('\n');
    if (kind !== '+') oldLine++;
    if (kind !== '-') newLine++;
  }
  return null;
}

export type MergeMethod = 'merge' | 'squash' | 'rebase';

/**
 * Merges `head` into branch `base` server-side. `rebase` is approximated by a squash-like
 * single commit on top of base (the tree is the same). Returns null on conflicts.
 */
export async function mergeBranch(gitDir: string, opts: { base: string; baseSha: string; head: string; method: MergeMethod; message: string; actor: User }): Promise<string | null> {
  const tree = await runGit(gitDir, ['merge-tree', '--write-tree', opts.baseSha, opts.head]);
  if (tree.code !== 0) return null;
  const treeSha = tree.stdout.split('\n')[0].trim();
  const parents = opts.method === 'merge' ? ['-p', opts.baseSha, '-p', opts.head] : ['-p', opts.baseSha];
  const env = identityEnv(opts.actor);
  const sha = (await git(gitDir, ['commit-tree', treeSha, ...parents, '-F', '-'], { env, input: opts.message })).trim();
  await git(gitDir, ['update-ref', `refs/heads/${opts.base}`, sha, opts.baseSha]);
  return sha;
}
