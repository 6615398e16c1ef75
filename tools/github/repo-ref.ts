/** A repository as the tools name it: `owner/repo`. */
export type RepoRef = {
  owner: string;
  repo: string;
};

const NAME = /^[A-Za-z0-9_.-]+$/;

/** Parses `owner/repo` (also a github.com URL or `owner/repo#12`); throws a message the model can act on. */
export function parseRepo(input: string): RepoRef {
  const cleaned = input
    .trim()
    .replace(/^https?:\/\/[^/]+\//, '')
    .replace(/\.git$/, '')
    .replace(/#\d+$/, '');
  const [owner, repo, ...rest] = cleaned.split('/');
  if (!owner || !repo || rest.length || !NAME.test(owner) || !NAME.test(repo)) {
    throw new Error(`"${input}" is not a repository: write it as owner/repo, e.g. acme/api`);
  }
  return { owner, repo };
}

/** The work ledger's external reference of an issue or pull request: `github:owner/repo#12`. */
export function issueRef(r: RepoRef, number: number): string {
  return `github:${r.owner}/${r.repo}#${number}`;
}

/** `owner/repo#12`, for messages. */
export function shortRef(r: RepoRef, number: number): string {
  return `${r.owner}/${r.repo}#${number}`;
}
