import type { PantheonTool, ToolContext, ToolGroupFactory } from '../types.js';
import { GitHubSession, githubClients, type GitHubToolDeps } from '../github/session.js';
import { fileTools } from './file-tools.js';
import { gitTools } from './git-tools.js';
import { runCommandTool } from './run-command.js';
import { Workspaces } from './workspaces.js';
import type { WorkspaceSandboxing } from './sandboxed.js';

/**
 * The `workspace` tool group: a checkout per work item under
 * `<dataDir>/workspaces/<persona>/<owner>-<repo>-<issue>`, on the persona's work branch.
 * Files are read and written inside it only; commands run with a stripped environment; git
 * talks to GitHub with the persona's own token through a one-shot credential helper, never a
 * token in a URL or an environment; pushes go to the persona's work branches only, never the
 * default branch, never forced.
 */
export function workspaceTools(deps: GitHubToolDeps & { sandboxing: (persona: string) => WorkspaceSandboxing }): ToolGroupFactory {
  const shared = { ...deps, clients: deps.clients ?? githubClients(deps) };
  return (ctx: ToolContext): PantheonTool[] => {
    const session = new GitHubSession(ctx, shared);
    const ws = new Workspaces(deps.dataDir, ctx.persona.id, deps.sandboxing(ctx.persona.id));
    return [...gitTools(session, ws), ...fileTools(ws), runCommandTool(ws)];
  };
}

export { branchName, slugify, workspaceName, isWorkBranchOf, parseWorkspaceArg } from './naming.js';
export { confine } from './confine.js';
export { sandboxEnv, runProcess, CappedOutput } from '../sandbox/process.js';
export type { WorkspaceSandboxing } from './sandboxed.js';
