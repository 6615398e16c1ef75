import type { PantheonTool, ToolContext, ToolGroupFactory } from '../types.js';
import { checkTools } from './checks.js';
import { issueTools } from './issues.js';
import { pullTools } from './pulls.js';
import { reviewTools } from './review.js';
import { GitHubSession, githubClients, type GitHubToolDeps } from './session.js';

/**
 * The `github` tool group: issues (the PM), pull requests and failed checks (developers),
 * reviews (reviewers), and merging behind a human's approval. Every call runs as the persona, with the client
 * built from its own token. What GitHub sends back is quoted as untrusted data. Anything
 * that creates something carries the call's hidden marker, so a replayed call creates it once.
 */
export function githubTools(deps: GitHubToolDeps): ToolGroupFactory {
  const shared = { ...deps, clients: deps.clients ?? githubClients(deps) };
  return (ctx: ToolContext): PantheonTool[] => {
    const session = new GitHubSession(ctx, shared);
    return [...issueTools(session), ...pullTools(session), ...checkTools(session), ...reviewTools(session)];
  };
}

export { githubClients, type GitHubToolDeps } from './session.js';
export { TeamDirectory, type TeamMember } from './team.js';
export { selectDiffs, fileTier, type ChangedFile } from './diff-budget.js';
export { renderDiff } from './review.js';
export { logTail } from './checks.js';
