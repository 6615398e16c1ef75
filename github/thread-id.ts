/**
 * GitHub thread ids: `github:{owner}/{repo}#{number}`, one thread per issue or pull request.
 * The same string is the work ledger's `externalRef` for that issue or PR, so a ledger item and
 * the GitHub thread it lives on find each other without a mapping table.
 */
export interface GitHubThread {
  owner: string;
  repo: string;
  number: number;
}

const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const REPO = /^[A-Za-z0-9._-]{1,100}$/;
const THREAD = /^github:([^/#]+)\/([^/#]+)#([1-9]\d*)$/;

export function encodeGitHubThreadId(t: { owner: string; repo: string; number: number | string }): string {
  const number = Number(t.number);
  if (!OWNER.test(t.owner)) throw new Error(`invalid GitHub owner ${JSON.stringify(t.owner)}`);
  if (!REPO.test(t.repo)) throw new Error(`invalid GitHub repository name ${JSON.stringify(t.repo)}`);
  if (!Number.isSafeInteger(number) || number < 1 || String(number) !== String(t.number)) {
    throw new Error(`invalid issue or pull request number ${JSON.stringify(t.number)}`);
  }
  return `github:${t.owner}/${t.repo}#${number}`;
}

export function decodeGitHubThreadId(threadId: string): GitHubThread {
  const m = THREAD.exec(threadId);
  if (!m || !OWNER.test(m[1]!) || !REPO.test(m[2]!)) throw new Error(`not a GitHub thread id: ${JSON.stringify(threadId)}`);
  return { owner: m[1]!, repo: m[2]!, number: Number(m[3]) };
}

/**
 * Ledger references that may name this issue or PR: the thread id itself, and the older
 * `gh:` spelling (docs and earlier items use it).
 */
export function ledgerRefs(t: GitHubThread): string[] {
  return [encodeGitHubThreadId(t), `gh:${t.owner}/${t.repo}#${t.number}`];
}
