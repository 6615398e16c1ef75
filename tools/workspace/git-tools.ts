import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { diskUse } from '../sandbox/disk-use.js';
import { z } from 'zod';
import type { PantheonTool } from '../types.js';
import { onGitHub } from '../github/errors.js';
import { parseRepo } from '../github/repo-ref.js';
import type { GitHubSession } from '../github/session.js';
import { confine } from './confine.js';
import { gitInWorkspace, gitInWorkspaceOk, gitTransport, gitTransportOk, importBranch, withGitCredentials } from './git.js';
import { branchName, isWorkBranchOf, workspaceName } from './naming.js';
import type { Workspaces } from './workspaces.js';

const workspaceArg = z.string().min(1).describe('The workspace name clone gave (e.g. acme-api-12), or owner/repo#issue');

const cloneSchema = z.object({
  repo: z.string().min(3).describe('The repository, as owner/repo'),
  issue: z.number().int().positive().describe('The issue you are working on: one workspace and branch per issue'),
});

/** clone, commit and push: the git steps that touch GitHub or authorship. */
export function gitTools(s: GitHubSession, ws: Workspaces): PantheonTool[] {
  return [clone(s, ws), commit(s, ws), push(s, ws)];
}

function clone(s: GitHubSession, ws: Workspaces): PantheonTool<typeof cloneSchema> {
  return {
    name: 'clone',
    description:
      'Check out a repository for an issue into your own workspace, on your work branch pantheon/<you>/<issue>-<slug>. ' +
      'Calling it again on an existing workspace fetches the latest from GitHub. Returns the workspace name the other workspace tools take.',
    risk: 'write',
    schema: cloneSchema,
    async run({ repo, issue }) {
      const r = parseRepo(repo);
      const name = workspaceName(r.owner, r.repo, issue);
      const dir = ws.dir(name);
      const sb = ws.sandbox;
      if (!sb.resolved.sandbox) throw sb.resolved.problem;
      // The clone URL comes from GitHub's own answer (Enterprise and fakes have their own hosts).
      const info = (await onGitHub(`read ${r.owner}/${r.repo}`, () => s.client.rest.repos.get(r))).data;
      const transport = ws.transport(name);
      const existing = await ws.readMeta(name);
      if (existing && (await ws.exists(name))) {
        const at = await ws.place(name);
        const fetched = await fetchIntoTransport(s, transport, info.clone_url);
        if (fetched.code === 0) await gitInWorkspaceOk(sb, at, ['fetch', '--prune', '--no-tags', transport, '+refs/heads/*:refs/remotes/origin/*'], { readOnly: [transport] });
        const current = (await gitInWorkspace(sb, at, ['symbolic-ref', '--short', 'HEAD'])).stdout.trim() || '(detached)';
        return `Workspace ${name} already exists (on branch ${current}; work branch ${existing.branch}). ${fetched.code === 0 ? 'Fetched the latest from GitHub into origin/*.' : `Fetching failed: ${fetched.stderr.trim()}`}`;
      }
      const title = await s.client.rest.issues.get({ ...r, issue_number: issue }).then(
        (x) => x.data.title,
        () => 'work',
      );
      const branch = branchName(s.persona.id, issue, title);
      await rm(dir, { recursive: true, force: true });
      await rm(transport, { recursive: true, force: true });
      await mkdir(dirname(transport), { recursive: true, mode: 0o700 });
      await gitTransportOk(['init', '--quiet', '--bare', transport], { cwd: dirname(transport) });
      const fetched = await fetchIntoTransport(s, transport, info.clone_url);
      if (fetched.code !== 0) {
        await rm(transport, { recursive: true, force: true });
        throw new Error(`git clone of ${info.clone_url} failed: ${fetched.stderr.trim() || fetched.stdout.trim()}`);
      }
      // The checkout starts from GitHub's default branch, as a clone from GitHub would.
      await gitTransportOk(['symbolic-ref', 'HEAD', `refs/heads/${info.default_branch}`], { cwd: transport });
      // The checkout is made in the sandbox from Pantheon's copy: the repository's content is only ever unpacked there.
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const at = await ws.place(name);
      const cloned = await gitInWorkspace(sb, at, ['clone', '--quiet', '--no-tags', '--no-hardlinks', '--', transport, dir], { readOnly: [transport], timeoutMs: 600_000 });
      if (cloned.code !== 0) {
        await rm(dir, { recursive: true, force: true });
        throw new Error(`git clone of ${info.clone_url} failed: ${cloned.stderr.trim() || cloned.stdout.trim()}`);
      }
      await gitInWorkspaceOk(sb, at, ['remote', 'set-url', 'origin', info.clone_url]);
      const remoteHas = (await gitInWorkspace(sb, at, ['rev-parse', '--verify', '--quiet', `refs/remotes/origin/${branch}`])).code === 0;
      await gitInWorkspaceOk(sb, at, remoteHas ? ['checkout', '--quiet', '-b', branch, '--track', `origin/${branch}`] : ['checkout', '--quiet', '-b', branch]);
      await ws.saveMeta(name, { owner: r.owner, repo: r.repo, issue, branch, defaultBranch: info.default_branch, cloneUrl: info.clone_url });
      return `Cloned ${r.owner}/${r.repo} into workspace ${name} on ${remoteHas ? 'your existing' : 'the new'} branch ${branch} (from ${remoteHas ? `origin/${branch}` : info.default_branch}). Pass workspace: "${name}" to the other workspace tools.`;
    },
  };
}

/** GitHub's branches into the transport repository's own refs/heads, as the persona. */
async function fetchIntoTransport(s: GitHubSession, transport: string, cloneUrl: string) {
  return withGitCredentials(await s.token(), cloneUrl, (config) =>
    gitTransport(['fetch', '--quiet', '--prune', '--no-tags', cloneUrl, '+refs/heads/*:refs/heads/*'], { cwd: transport, config, timeoutMs: 600_000 }),
  );
}

const commitSchema = z.object({
  workspace: workspaceArg,
  message: z.string().min(3).describe('The commit message: a short summary line, then details'),
  paths: z.array(z.string().min(1)).optional().describe('Only these paths; default: every change'),
});

function commit(s: GitHubSession, ws: Workspaces): PantheonTool<typeof commitSchema> {
  return {
    name: 'commit',
    description: 'Commit the changes in your workspace, as you (your name and GitHub noreply address).',
    risk: 'write',
    // Unsandboxed, `git add` would run the repository's own clean filters on Pantheon's host: a human says yes first.
    alwaysAsk: ws.sandboxing?.resolved.sandbox?.backend === 'none',
    schema: commitSchema,
    async run({ workspace, message, paths }) {
      const w = await ws.open(workspace);
      const sb = ws.sandbox;
      const at = await ws.place(w.name);
      for (const p of paths ?? []) await confine(w.dir, p);
      await gitInWorkspaceOk(sb, at, ['add', '-A', '--', ...(paths?.length ? paths : ['.'])]);
      if ((await gitInWorkspace(sb, at, ['diff', '--cached', '--quiet'])).code === 0) {
        const head = (await gitInWorkspace(sb, at, ['log', '-1', '--format=%h %s'])).stdout.trim();
        return `Nothing to commit in ${w.name}: no changes${paths?.length ? ' in those paths' : ''}. Last commit: ${head || 'none'}.`;
      }
      const login = await s.login();
      const identity = [
        ['user.name', s.persona.name],
        ['user.email', `${login}@users.noreply.github.com`],
      ] as const;
      await gitInWorkspaceOk(sb, at, ['commit', '--no-verify', '-F', '-'], { config: identity, input: message.trim() + '\n' });
      const stat = (await gitInWorkspace(sb, at, ['show', '--stat', '--format=%h %an <%ae>%n%s', 'HEAD'])).stdout.trim();
      return `Committed on ${(await gitInWorkspace(sb, at, ['symbolic-ref', '--short', 'HEAD'])).stdout.trim()}:\n${stat}`;
    },
  };
}

const pushSchema = z.object({
  workspace: workspaceArg,
  branch: z.string().optional().describe('Must be your current work branch (the default)'),
  force: z.boolean().optional().describe('Not allowed: force pushes are refused'),
});

function push(s: GitHubSession, ws: Workspaces): PantheonTool<typeof pushSchema> {
  return {
    name: 'push',
    description: 'Push your work branch to GitHub. Only your own work branches (pantheon/<you>/...); never the default branch; never a force push.',
    risk: 'write',
    schema: pushSchema,
    async run({ workspace, branch, force }) {
      if (force) return 'Refused: force pushes are not allowed (they rewrite history others may have reviewed). Add commits on top instead.';
      const w = await ws.open(workspace);
      const sb = ws.sandbox;
      const at = await ws.place(w.name);
      const current = (await gitInWorkspace(sb, at, ['symbolic-ref', '--short', '-q', 'HEAD'])).stdout.trim();
      const r = { owner: w.meta.owner, repo: w.meta.repo };
      // GitHub's answer, not the checkout's config, says where to push and which branch is the default.
      const info = (await onGitHub(`read ${r.owner}/${r.repo}`, () => s.client.rest.repos.get(r))).data;
      const target = branch ?? current;
      if (target === info.default_branch || target === w.meta.defaultBranch) {
        return `Refused: ${target} is the default branch of ${r.owner}/${r.repo}; changes reach it through a reviewed pull request. Push your work branch ${w.meta.branch} and open a pull request.`;
      }
      if (!current) return `Refused: the workspace is not on a branch (detached HEAD). Check out your work branch ${w.meta.branch} (run_workspace_command: git checkout ${w.meta.branch}).`;
      if (branch && branch !== current) return `Refused: push sends your current branch (${current}); ${branch} is not checked out. Switch to it first, or push ${current}.`;
      if (!isWorkBranchOf(s.persona.id, current)) return `Refused: ${current} is not one of your work branches (pantheon/${s.persona.id}/...). Your work branch here is ${w.meta.branch}.`;
      // No "+" in the refspec: GitHub rejects anything but a fast-forward.
      // The commits go to Pantheon's own repository first; only that one talks to GitHub.
      const transport = ws.transport(w.name);
      if (
        !(await stat(transport).then(
          () => true,
          () => false,
        ))
      ) {
        await mkdir(dirname(transport), { recursive: true, mode: 0o700 });
        await gitTransportOk(['init', '--quiet', '--bare', transport], { cwd: dirname(transport) });
      }
      // Pantheon's copy grows with what is pushed: it gets the workspace's quota too.
      const copied = await diskUse([transport]);
      if (copied > sb.quotaBytes) {
        return `Refused: Pantheon's copy of ${r.owner}/${r.repo} for this workspace holds ${Math.round(copied / 1048576)} MB, over the workspace quota of ${Math.round(sb.quotaBytes / 1048576)} MB (workspaces.quotaMb). Ask a human to look at what was committed.`;
      }
      await importBranch(sb, at, transport, current);
      const refspec = `refs/pantheon/outgoing/${current}:refs/heads/${current}`;
      const pushed = await withGitCredentials(await s.token(), info.clone_url, (config) =>
        gitTransport(['push', '--porcelain', info.clone_url, refspec], { cwd: transport, config, timeoutMs: 300_000 }),
      );
      const sha = (await gitTransport(['rev-parse', '--short', `refs/pantheon/outgoing/${current}`], { cwd: transport })).stdout.trim();
      if (pushed.code === 0) return `Pushed ${current} (${sha}) to ${r.owner}/${r.repo}. Next: open_pull_request with branch "${current}" and issue ${w.meta.issue}, if it is not open yet.`;
      const said = `${pushed.stdout}\n${pushed.stderr}`.trim();
      if (/non-fast-forward|\[rejected\]|fetch first/.test(said)) {
        return `Rejected: ${current} on GitHub has commits this workspace does not (force pushes are refused). Call clone again to fetch them, then merge origin/${current} (run_workspace_command: git merge origin/${current}) and push again.`;
      }
      throw new Error(`git push failed: ${said}`);
    },
  };
}
