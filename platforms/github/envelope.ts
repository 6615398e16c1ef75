import type { Envelope } from '../../core/chat/types.js';
import { activityRef, type GitHubActivity } from '../../github/activity.js';
import { encodeGitHubThreadId } from '../../github/thread-id.js';
import { quoteLogin, quoteUntrusted } from './untrusted.js';

/**
 * The envelope one activity becomes: a short instruction written by Pantheon (facts only: who,
 * where, what to do), then everything GitHub users wrote, quoted as untrusted data. The sender's
 * login is the author (the id the `humans:` registry matches).
 */
export function activityEnvelope(a: GitHubActivity, opts: { id: string; loginOf: (personaId: string) => string | undefined; now?: Date }): Envelope {
  const threadId = encodeGitHubThreadId({ owner: a.repo.owner, repo: a.repo.name, number: a.number });
  const base = {
    id: opts.id,
    platform: 'github',
    threadId,
    author: { id: a.sender.login, name: a.sender.login, isBot: false },
    receivedAt: (opts.now ?? new Date()).toISOString(),
    bindingKey: `github:${a.repo.owner}/${a.repo.name}`,
  };
  if (a.kind === 'command') return { ...base, text: a.commandText ?? '' };
  const who = a.targets.map((t) => `${t} (GitHub ${opts.loginOf(t) ?? 'login unknown'})`).join(', ');
  const lines = [`[GitHub ${activityRef(a)}, ${a.isPullRequest ? 'pull request' : 'issue'}] ${headline(a, who)}`, `What to do: ${instruction(a)}`];
  if (a.url) lines.push(`Link: ${a.url}`);
  lines.push('Your reply in this conversation is posted on GitHub as a comment on this thread, under your own GitHub account.');
  const blocks = (a.content ?? []).map((c) => quoteUntrusted(c.label, c.text));
  return { ...base, text: [lines.join('\n'), ...blocks].join('\n\n'), targets: [...a.targets] };
}

function headline(a: GitHubActivity, who: string): string {
  const by = quoteLogin(a.sender.login);
  switch (a.kind) {
    case 'assigned':
      return `${by} assigned ${who} to this ${a.isPullRequest ? 'pull request' : 'issue'}.`;
    case 'unassigned':
      return `${by} unassigned ${who} from this ${a.isPullRequest ? 'pull request' : 'issue'}.`;
    case 'mentioned':
      return `${by} mentioned ${who}.`;
    case 'review_requested':
      return `${by} requested a review from ${who}.`;
    case 'review':
      return `${by} reviewed the pull request of ${who}: ${(a.review?.state ?? 'commented').replace('_', ' ')}.`;
    case 'review_comment':
      return `${by} commented on the code of the pull request of ${who}.`;
    case 'ci_failed':
      return `The check "${a.ci?.name ?? 'CI'}" failed on the pull request of ${who}${a.ci?.headSha ? ` (commit ${a.ci.headSha.slice(0, 7)})` : ''}.`;
    case 'pr_closed':
      return a.closed?.merged ? `The pull request of ${who} was merged by ${quoteLogin(a.closed.by ?? a.sender.login)}.` : `The pull request of ${who} was closed without merging by ${by}.`;
    default:
      return `${by}: ${a.kind.replace(/_/g, ' ')} (${who}).`;
  }
}

function instruction(a: GitHubActivity): string {
  switch (a.kind) {
    case 'assigned':
      return 'work on it. Acknowledge briefly, then do the work with your tools (branch, commit, open a pull request that closes the issue, request reviews).';
    case 'unassigned':
      return 'stop working on it: push nothing more for it and open no pull request for it. Acknowledge in one short line.';
    case 'mentioned':
      return 'answer the mention, and do what is asked if it is within your role.';
    case 'review_requested':
      return 'review the pull request with your tools: read the diff, comment inline where needed, then approve or request changes.';
    case 'review':
    case 'review_comment':
      return 'address the review: change the code and push, or answer the comments where you disagree.';
    case 'ci_failed':
      return "read the failed check's log with your tools, fix the cause and push.";
    case 'pr_closed':
      return a.closed?.merged
        ? 'nothing more is needed on GitHub; reply with at most one short line.'
        : 'stop working on this pull request unless someone asks again; reply with at most one short line.';
    default:
      return 'take note.';
  }
}
