import type { RepoRef } from './repo-ref.js';
import { issueRef } from './repo-ref.js';
import type { GitHubSession } from './session.js';

/** The issue a pull request body closes (`Closes #12`, `fixes #12`, ...), if any. */
export function closedIssue(body: string | null | undefined): number | undefined {
  const m = /\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+#(\d+)\b/i.exec(body ?? '');
  return m ? Number(m[1]) : undefined;
}

/** The ledger's work item for an issue, if the ledger is there and knows it. */
export async function workItemOf(s: GitHubSession, r: RepoRef, issue: number | undefined) {
  if (!s.deps.ledger || issue === undefined) return undefined;
  return s.deps.ledger.getByExternalRef(issueRef(r, issue));
}
