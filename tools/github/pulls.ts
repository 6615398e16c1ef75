import { z } from 'zod';
import type { PantheonTool } from '../types.js';
import { onGitHub } from './errors.js';
import { hasMarker, withMarker } from './marker.js';
import { issueRef, parseRepo, shortRef, type RepoRef } from './repo-ref.js';
import type { GitHubSession } from './session.js';
import { untrusted, UNTRUSTED_NOTE } from './untrusted.js';
import { closedIssue, workItemOf } from './work-item.js';

const repoArg = z.string().min(3).describe('The repository, as owner/repo');
const prArg = z.number().int().positive().describe('The pull request number');

const openSchema = z.object({
  repo: repoArg,
  branch: z.string().min(1).describe('Your work branch (the one `clone` made and `push` pushed)'),
  issue: z.number().int().positive().describe('The issue this pull request closes'),
  title: z.string().min(3).max(256),
  body: z.string().min(1).describe('What changed and how it was tested (markdown)'),
  base: z.string().optional().describe("Target branch; default: the repository's default branch"),
  draft: z.boolean().optional(),
});

/** The pull request body: the text, `Closes #n`, the work item, and the call's hidden marker. */
export function pullRequestBody(body: string, issue: number, workItem: string | undefined, callId: string): string {
  const parts = [body.trim()];
  if (closedIssue(body) !== issue) parts.push(`Closes #${issue}`);
  if (workItem) parts.push(`Pantheon work item: ${workItem}`);
  return withMarker(parts.join('\n\n'), callId);
}

/** The developer's pull request tools, and merging (always behind a human's approval). */
export function pullTools(s: GitHubSession): PantheonTool[] {
  return [openPullRequest(s), requestReviews(s), listReviews(s), mergePullRequest(s)];
}

function openPullRequest(s: GitHubSession): PantheonTool<typeof openSchema> {
  return {
    name: 'open_pull_request',
    description: 'Open a pull request from your pushed work branch that closes the issue, and request reviews from the reviewer personas. ' + "The issue's work item moves to in_review.",
    risk: 'write',
    schema: openSchema,
    async run(args, call) {
      const r = parseRepo(args.repo);
      const open = await onGitHub('list pull requests', async () => (await s.client.rest.pulls.list({ ...r, head: `${r.owner}:${args.branch}`, state: 'all', per_page: 100 })).data);
      const ledger = s.deps.ledger;
      const found = open.find((p) => p.state === 'open' || hasMarker(p.body, call.id));
      const item = ledger
        ? ((await workItemOf(s, r, args.issue)) ??
          (
            await ledger.ensure({
              kind: 'issue',
              title: args.title,
              externalRef: issueRef(r, args.issue),
              originThread: call.threadId,
              originPlatform: call.platform,
              owner: s.persona.id,
              actor: call.persona,
            })
          ).item)
        : undefined;
      let pr: { number: number; html_url: string } | undefined = found;
      if (!pr) {
        const base = args.base ?? (await onGitHub('read the repository', () => s.client.rest.repos.get(r))).data.default_branch;
        pr = (
          await onGitHub(`open a pull request from ${args.branch}`, () =>
            s.client.rest.pulls.create({ ...r, head: args.branch, base, title: args.title, body: pullRequestBody(args.body, args.issue, item?.id, call.id), draft: args.draft }),
          )
        ).data;
      }
      const requested = await requestReviewers(s, r, pr.number, s.deps.team.reviewerLogins(s.persona.id), call.persona, item?.id);
      if (item && ledger) {
        await ledger.transition(item.id, 'in_review', { actor: call.persona, note: `pull request ${shortRef(r, pr.number)} opened` });
        await ledger.recordEvent(item.id, { actor: call.persona, kind: 'pull_request_opened', detail: { url: pr.html_url, number: pr.number } });
      }
      return [
        `${found ? 'Pull request already open' : 'Opened pull request'} ${shortRef(r, pr.number)} (closes #${args.issue}): ${pr.html_url}.`,
        requested,
        item ? `Work item ${item.id} is in review.` : '',
      ]
        .filter(Boolean)
        .join(' ');
    },
  };
}

/** Requests reviews (idempotent on GitHub's side) and records the reviewers on the work item. */
async function requestReviewers(s: GitHubSession, r: RepoRef, number: number, logins: string[], actor: string, workItem?: string): Promise<string> {
  if (!logins.length) return 'No reviewers requested: no reviewer persona has a GitHub login.';
  try {
    await s.client.rest.pulls.requestReviewers({ ...r, pull_number: number, reviewers: logins });
  } catch (err) {
    const e = err as { status?: number; message?: string };
    return `Could not request reviews from ${logins.join(', ')} (GitHub ${e.status ?? ''}: ${e.message ?? err}); they may not be collaborators on ${r.owner}/${r.repo}.`;
  }
  const itemId = workItem ?? (await workItemOf(s, r, closedIssue((await onGitHub('read the pull request', () => s.client.rest.pulls.get({ ...r, pull_number: number }))).data.body)))?.id;
  if (itemId && s.deps.ledger) {
    for (const login of logins) {
      const persona = s.deps.team.personaByLogin(login);
      if (persona) await s.deps.ledger.addReviewer(itemId, persona.id, actor);
    }
  }
  return `Reviews requested from ${logins.map((l) => s.deps.team.describeLogin(l)).join(', ')}.`;
}

const requestSchema = z.object({
  repo: repoArg,
  number: prArg,
  reviewers: z.array(z.string().min(1)).optional().describe('Persona ids or GitHub logins; default: the reviewer personas'),
});

function requestReviews(s: GitHubSession): PantheonTool<typeof requestSchema> {
  return {
    name: 'request_reviews',
    description: 'Request reviews on a pull request: from the reviewer personas by default, or from the people named.',
    risk: 'write',
    schema: requestSchema,
    async run({ repo, number, reviewers }, call) {
      const r = parseRepo(repo);
      const logins = reviewers?.length ? reviewers.map((n) => s.deps.team.resolve(n).login) : s.deps.team.reviewerLogins(s.persona.id);
      return requestReviewers(s, r, number, logins, call.persona);
    },
  };
}

const listReviewsSchema = z.object({ repo: repoArg, number: prArg });

function listReviews(s: GitHubSession): PantheonTool<typeof listReviewsSchema> {
  return {
    name: 'list_reviews',
    description: `List a pull request's reviews: who approved or requested changes, with their summaries. ${UNTRUSTED_NOTE}`,
    risk: 'read',
    schema: listReviewsSchema,
    async run({ repo, number }) {
      const r = parseRepo(repo);
      const [pr, reviews] = await Promise.all([
        onGitHub('read the pull request', () => s.client.rest.pulls.get({ ...r, pull_number: number })).then((x) => x.data),
        onGitHub('list reviews', () => s.client.paginate(s.client.rest.pulls.listReviews, { ...r, pull_number: number, per_page: 100 })),
      ]);
      const verdict = new Map<string, string>();
      for (const rv of reviews) if (rv.user && rv.state !== 'COMMENTED' && rv.state !== 'PENDING') verdict.set(rv.user.login, rv.state);
      const waiting = (pr.requested_reviewers ?? []).map((u) => s.deps.team.describeLogin(u.login));
      const lines = [
        `${shortRef(r, number)} [${pr.merged ? 'merged' : pr.state}]: ${reviews.length} review(s).`,
        `Verdicts: ${[...verdict].map(([l, v]) => `${s.deps.team.describeLogin(l)} ${v}`).join(', ') || 'none yet'}.`,
        `Still requested: ${waiting.join(', ') || 'nobody'}.`,
      ];
      for (const rv of reviews) lines.push(untrusted(`review ${rv.id} by ${rv.user?.login ?? 'someone'}: ${rv.state} at ${rv.submitted_at ?? '?'}`, rv.body));
      return lines.join('\n');
    },
  };
}

const mergeSchema = z.object({
  repo: repoArg,
  number: prArg,
  method: z.enum(['merge', 'squash', 'rebase']).optional().describe('Default squash'),
  sha: z.string().optional().describe('Merge only if the head is still this commit'),
});

/** Merging: destructive, and a human approves every merge whatever the policy says (`alwaysAsk`). */
function mergePullRequest(s: GitHubSession): PantheonTool<typeof mergeSchema> {
  return {
    name: 'merge_pull_request',
    description: 'Merge a pull request. A human always approves a merge first; the request is shown to them with your reason.',
    risk: 'destructive',
    alwaysAsk: true,
    schema: mergeSchema,
    async run({ repo, number, method, sha }, call) {
      const r = parseRepo(repo);
      const pr = (await onGitHub('read the pull request', () => s.client.rest.pulls.get({ ...r, pull_number: number }))).data;
      if (!pr.merged) {
        if (pr.state !== 'open') return `Not merged: ${shortRef(r, number)} is closed.`;
        await onGitHub(`merge ${shortRef(r, number)}`, () => s.client.rest.pulls.merge({ ...r, pull_number: number, merge_method: method ?? 'squash', sha }));
      }
      const item = await workItemOf(s, r, closedIssue(pr.body));
      if (item) await s.deps.ledger!.transition(item.id, 'merged', { actor: call.persona, note: `${shortRef(r, number)} merged` });
      return `${pr.merged ? 'Already merged' : 'Merged'}: ${shortRef(r, number)} ${pr.html_url}.${item ? ` Work item ${item.id} is merged.` : ''}`;
    },
  };
}
