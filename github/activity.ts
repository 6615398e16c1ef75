/**
 * A `GitHubActivity` is what one GitHub happening means for the team, whichever way it arrived
 * (a signed webhook or a persona's polled notification): "jeff assigned apollo to acme/api#12",
 * "artemis requested changes on apollo's PR". Both paths map to activities, and one processor
 * turns activities into envelopes, refusals and ledger updates.
 */
type ActivityKind = 'assigned' | 'unassigned' | 'mentioned' | 'review_requested' | 'review_request_removed' | 'review' | 'review_comment' | 'ci_failed' | 'pr_closed' | 'pr_pushed' | 'command';

export interface GitHubRepoRef {
  owner: string;
  name: string;
}

/** A GitHub account as an event names it. */
export interface GitHubActor {
  login: string;
  /** GitHub Apps and integrations (`type: Bot`): their events never wake anyone. */
  isBot: boolean;
}

export interface GitHubActivity {
  kind: ActivityKind;
  /**
   * What the happening is, the same from either path (`comment:acme/api:991`). The first source
   * to claim it wakes the persona; undefined: the webhook's delivery id is dedupe enough.
   */
  key?: string;
  /** Seconds after which `key` may wake again (re-assignment); undefined: never. */
  windowSeconds?: number;
  repo: GitHubRepoRef;
  number: number;
  isPullRequest: boolean;
  /** Issue or PR title (untrusted: shown quoted). */
  title: string;
  /** Link for humans and the persona. */
  url: string;
  sender: GitHubActor;
  /** Persona ids this is aimed at (assignee, requested reviewer, mentioned login, PR author). */
  targets: string[];
  /** Issue body, comment, review and its comments: quoted as untrusted data. */
  content?: { label: string; text: string | null }[];
  /**
   * false for happenings GitHub itself reports (a failed check) or that GitHub only lets
   * writers do (assignments, review requests seen through polling, where the actor is unknown).
   */
  needsAuthorisation: boolean;
  /** Kind-specific facts. */
  review?: { id: number; state: 'approved' | 'changes_requested' | 'commented' | 'dismissed' | string; prAuthor?: string };
  ci?: { name: string; conclusion: string; headSha?: string; url?: string };
  closed?: { merged: boolean; by?: string; body?: string | null; prAuthor?: string };
  /** For `command`: the comment's text as typed (`approve 7f3k`, `/status`). */
  commandText?: string;
  /** Id of what this came from, for the envelope id: `delivery:<id>` or `notification:<...>`. */
  source?: string;
}

/** `acme/api#12` */
export function activityRef(a: Pick<GitHubActivity, 'repo' | 'number'>): string {
  return `${a.repo.owner}/${a.repo.name}#${a.number}`;
}

/** A day: how long an assignment or review request counts as "already seen" across paths. */
export const REQUEST_WINDOW_SECONDS = 24 * 3600;

/**
 * What a GitHub activity did to the work it touches, as the GitHub inbound pipeline reports it
 * once the activity is checked: who was assigned or asked to review, a push, a verdict, a close.
 * `prBody` is the pull request's body (its `Closes #12` names the issues it works on), read by
 * the pipeline. Whoever keeps the work ledger in step listens (github/ledger-sync.ts).
 */
export type GitHubWorkEvent =
  | { kind: 'assigned' | 'unassigned'; activity: GitHubActivity; persona: string }
  | { kind: 'review_requested'; activity: GitHubActivity; persona: string; prBody: string | null }
  | { kind: 'pushed' | 'changes_requested' | 'all_approved'; activity: GitHubActivity; prBody: string | null }
  | { kind: 'closed'; activity: GitHubActivity };

/** Told each `GitHubWorkEvent`; a failure fails the activity's processing (and its retry). */
export type GitHubWorkListener = (event: GitHubWorkEvent) => Promise<void>;
