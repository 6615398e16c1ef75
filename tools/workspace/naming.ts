import { join } from 'node:path';

const SAFE = /[^A-Za-z0-9._-]+/g;

/** `<owner>-<repo>-<issue>`: one checkout per work item. */
export function workspaceName(owner: string, repo: string, issue: number): string {
  return `${owner.replace(SAFE, '_')}-${repo.replace(SAFE, '_')}-${issue}`;
}

/** Where a persona's checkouts live: `<dataDir>/workspaces/<persona>`. */
export function personaRoot(dataDir: string, persona: string): string {
  return join(dataDir, 'workspaces', persona);
}

/**
 * The private HOME of one workspace's commands (caches such as npm's, never credentials): one per
 * workspace, so what a repository's code leaves in HOME cannot reach another workspace's commands.
 */
export function workspaceHome(dataDir: string, persona: string, name: string): string {
  return join(personaRoot(dataDir, persona), '.homes', name);
}

/**
 * Pantheon's own bare repository for a workspace: the only repository that talks to GitHub, with
 * configuration only Pantheon writes. Commands never see it (tools/workspace/git.ts).
 */
export function transportRepo(dataDir: string, persona: string, name: string): string {
  return join(personaRoot(dataDir, persona), '.pantheon', `${name}.git`);
}

/** Where Pantheon keeps what it knows about a checkout (outside the checkout itself). */
export function metaFile(dataDir: string, persona: string, name: string): string {
  return join(personaRoot(dataDir, persona), '.pantheon', `${name}.json`);
}

/**
 * The workspace a tool argument names: its directory name (`acme-api-12`) or the work item
 * it is for (`acme/api#12`). Throws a message naming the accepted forms.
 */
export function parseWorkspaceArg(input: string): string {
  const s = input.trim();
  const ref = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)#(\d+)$/.exec(s);
  if (ref) return workspaceName(ref[1]!, ref[2]!, Number(ref[3]));
  if (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(s)) return s;
  throw new Error(`"${input}" is not a workspace: use the name clone gave (e.g. acme-api-12) or owner/repo#issue`);
}

/** A short slug of an issue title for a branch name: `Fix the login bug!` → `fix-the-login-bug`. */
export function slugify(title: string, max = 40): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (slug.length <= max) return slug || 'work';
  const cut = slug.slice(0, max);
  const lastDash = cut.lastIndexOf('-');
  return (lastDash > max / 2 ? cut.slice(0, lastDash) : cut).replace(/-+$/, '') || 'work';
}

/** The work branch of a persona's work on an issue: `pantheon/<persona>/<issue>-<slug>`. */
export function branchName(persona: string, issue: number, title: string): string {
  return `pantheon/${persona}/${issue}-${slugify(title)}`;
}

/** Branches a persona may push: its own work branches. */
export function isWorkBranchOf(persona: string, branch: string): boolean {
  return branch.startsWith(`pantheon/${persona}/`) && !branch.includes('..') && !/[\s~^:?*[\\]/.test(branch);
}
