import { z } from 'zod';
import type { PantheonTool } from '../types.js';
import { CHARS_PER_TOKEN, fileLine, selectDiffs, SKIP_REASONS, type ChangedFile, type SkipReason } from './diff-budget.js';
import { onGitHub } from './errors.js';
import { hasMarker, withMarker } from './marker.js';
import { parseRepo, shortRef, type RepoRef } from './repo-ref.js';
import { awaitingAuthor, groupThreads } from './review-threads.js';
import type { GitHubSession } from './session.js';
import { oneLine, untrusted, UNTRUSTED_NOTE } from './untrusted.js';
import { closedIssue, workItemOf } from './work-item.js';

const repoArg = z.string().min(3).describe('The repository, as owner/repo');
const prArg = z.number().int().positive().describe('The pull request number');
const DEFAULT_DIFF_TOKENS = 12_000;

/** The reviewer's tools, and the developer's tools for answering a review. */
export function reviewTools(s: GitHubSession): PantheonTool[] {
  return [getPullRequestDiff(s), submitReview(s), listUnresolvedReviewThreads(s), replyToReviewComment(s)];
}

const diffSchema = z.object({
  repo: repoArg,
  number: prArg,
  max_tokens: z.number().int().min(1000).max(50_000).optional().describe(`Budget for the diff text (default ${DEFAULT_DIFF_TOKENS})`),
  paths: z.array(z.string().min(1)).optional().describe('Only these files (e.g. ones skipped by an earlier call)'),
});

/** The answer of get_pull_request_diff: every file is either shown or named as skipped. */
export function renderDiff(ref: string, title: string, files: readonly ChangedFile[], budgetTokens: number, opts: { missing?: readonly string[]; filtered?: boolean } = {}): string {
  const missing = opts.missing ?? [];
  const { shown, skipped } = selectDiffs(files, budgetTokens * CHARS_PER_TOKEN);
  const adds = files.reduce((n, f) => n + f.additions, 0);
  const dels = files.reduce((n, f) => n + f.deletions, 0);
  const out = [
    `Pull request ${ref}: ${oneLine(title)}`,
    `${files.length} file(s) ${opts.filtered ? 'asked for' : 'changed'}, +${adds}/-${dels}. Shown: ${shown.length}. Skipped: ${skipped.length}${skipped.length ? ' (named below: review them with paths: [...], or a larger max_tokens)' : ''}.`,
  ];
  if (missing.length) out.push(`Not in this pull request: ${missing.join(', ')}.`);
  if (shown.length) out.push(untrusted(`diff of ${ref}`, shown.map((f) => `--- ${fileLine(f)}\n${f.patch}`).join('\n\n')));
  if (skipped.length) {
    out.push(`SKIPPED files (${skipped.length}), not shown above:`);
    const groups = (Object.keys(SKIP_REASONS) as SkipReason[])
      .map((reason) => ({ reason, files: skipped.filter((s) => s.reason === reason) }))
      .filter((g) => g.files.length)
      .map((g) => `${SKIP_REASONS[g.reason]} (${g.files.length}):\n${g.files.map((s) => `- ${fileLine(s.file)}`).join('\n')}`);
    out.push(untrusted(`skipped files of ${ref}`, groups.join('\n')));
  }
  return out.join('\n');
}

function getPullRequestDiff(s: GitHubSession): PantheonTool<typeof diffSchema> {
  return {
    name: 'get_pull_request_diff',
    description:
      "Read a pull request's changes, file by file, within a token budget: code first and larger changes first; files that do not fit are named as SKIPPED, never dropped. " + UNTRUSTED_NOTE,
    risk: 'read',
    schema: diffSchema,
    async run({ repo, number, max_tokens, paths }) {
      const r = parseRepo(repo);
      const pr = (await onGitHub('read the pull request', () => s.client.rest.pulls.get({ ...r, pull_number: number }))).data;
      let files: ChangedFile[] = await onGitHub('list the changed files', () => s.client.paginate(s.client.rest.pulls.listFiles, { ...r, pull_number: number, per_page: 100 }));
      let missing: string[] = [];
      if (paths?.length) {
        const wanted = new Set(paths);
        missing = paths.filter((p) => !files.some((f) => f.filename === p));
        files = files.filter((f) => wanted.has(f.filename));
      }
      return renderDiff(shortRef(r, number), pr.title, files, max_tokens ?? DEFAULT_DIFF_TOKENS, { missing, filtered: !!paths?.length });
    },
  };
}

const inlineComment = z.object({
  path: z.string().min(1).describe('File path as in the diff'),
  line: z.number().int().positive().describe('Line number in the new version of the file (old version with side LEFT)'),
  body: z.string().min(1),
  side: z.enum(['LEFT', 'RIGHT']).optional(),
  start_line: z.number().int().positive().optional().describe('First line of a multi-line comment'),
});

const submitSchema = z.object({
  repo: repoArg,
  number: prArg,
  event: z.enum(['APPROVE', 'REQUEST_CHANGES', 'COMMENT']),
  body: z.string().describe('The review summary'),
  comments: z.array(inlineComment).max(100).optional().describe('Inline comments, all sent with the review'),
});

function submitReview(s: GitHubSession): PantheonTool<typeof submitSchema> {
  return {
    name: 'submit_review',
    description: 'Submit your review of a pull request in one go: APPROVE, REQUEST_CHANGES or COMMENT, a summary, and inline comments on lines of the diff.',
    risk: 'write',
    schema: submitSchema,
    async run({ repo, number, event, body, comments }, call) {
      const r = parseRepo(repo);
      if (event !== 'APPROVE' && !body.trim()) return `Not submitted: a ${event} review needs a summary in body.`;
      const reviews = await onGitHub('list reviews', () => s.client.paginate(s.client.rest.pulls.listReviews, { ...r, pull_number: number, per_page: 100 }));
      const done = reviews.find((rv) => hasMarker(rv.body, call.id));
      if (done) return `Already submitted (this call ran before): ${done.state} on ${shortRef(r, number)}: ${done.html_url}`;
      // One API call: the verdict, the summary and every inline comment land together.
      const review = (
        await onGitHub(`submit a review on ${shortRef(r, number)}`, () =>
          s.client.rest.pulls.createReview({
            ...r,
            pull_number: number,
            event,
            body: withMarker(body, call.id),
            comments: (comments ?? []).map((c) => ({
              path: c.path,
              line: c.line,
              body: c.body,
              side: c.side ?? 'RIGHT',
              ...(c.start_line ? { start_line: c.start_line, start_side: c.side ?? 'RIGHT' } : {}),
            })),
          }),
        )
      ).data;
      const pr = (await onGitHub('read the pull request', () => s.client.rest.pulls.get({ ...r, pull_number: number }))).data;
      const item = await workItemOf(s, r, closedIssue(pr.body));
      if (item) await s.deps.ledger!.recordEvent(item.id, { actor: call.persona, kind: 'review_submitted', detail: { state: review.state, url: review.html_url, comments: comments?.length ?? 0 } });
      return `Review submitted on ${shortRef(r, number)}: ${review.state}${comments?.length ? ` with ${comments.length} inline comment(s)` : ''}: ${review.html_url}`;
    },
  };
}

const threadsSchema = z.object({ repo: repoArg, number: prArg, include_answered: z.boolean().optional().describe('Also list unresolved threads you already replied to') });

/**
 * Review threads resolved on GitHub. REST does not say; GraphQL's `reviewThreads` does, keyed
 * here by the thread's first comment. Without GraphQL (an old Enterprise server, a fake),
 * nothing counts as resolved and replies alone decide.
 */
async function resolvedThreadRoots(s: GitHubSession, r: RepoRef, number: number): Promise<Set<number>> {
  const resolved = new Set<number>();
  try {
    let after: string | null = null;
    for (let page = 0; page < 20; page++) {
      const data: ThreadsAnswer = await s.client.graphql(THREADS_QUERY, { owner: r.owner, repo: r.repo, number, after });
      const threads = data.repository?.pullRequest?.reviewThreads;
      for (const t of threads?.nodes ?? []) {
        const root = t?.comments?.nodes?.[0]?.databaseId;
        if (t?.isResolved && typeof root === 'number') resolved.add(root);
      }
      if (!threads?.pageInfo?.hasNextPage) break;
      after = threads.pageInfo.endCursor ?? null;
    }
  } catch (err) {
    s.deps.logger?.debug({ err: (err as Error).message }, 'review thread resolution unavailable; using replies only');
  }
  return resolved;
}

const THREADS_QUERY = `query($owner: String!, $repo: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $repo) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $after) {
        nodes { isResolved comments(first: 1) { nodes { databaseId } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}`;

interface ThreadsAnswer {
  repository?: {
    pullRequest?: {
      reviewThreads?: { nodes?: Array<{ isResolved?: boolean; comments?: { nodes?: Array<{ databaseId?: number }> } }>; pageInfo?: { hasNextPage?: boolean; endCursor?: string | null } };
    };
  };
}

function listUnresolvedReviewThreads(s: GitHubSession): PantheonTool<typeof threadsSchema> {
  return {
    name: 'list_unresolved_review_threads',
    description:
      "List the inline review threads on a pull request that still need an answer from its author: not resolved, and the last word is not the author's. " +
      `Each shows the comment id to pass to reply_to_review_comment. ${UNTRUSTED_NOTE}`,
    risk: 'read',
    schema: threadsSchema,
    async run({ repo, number, include_answered }) {
      const r = parseRepo(repo);
      const [pr, comments, resolved] = await Promise.all([
        onGitHub('read the pull request', () => s.client.rest.pulls.get({ ...r, pull_number: number })).then((x) => x.data),
        onGitHub('list review comments', () => s.client.paginate(s.client.rest.pulls.listReviewComments, { ...r, pull_number: number, per_page: 100 })),
        resolvedThreadRoots(s, r, number),
      ]);
      const threads = groupThreads(comments, resolved);
      const author = pr.user?.login ?? '';
      const open = include_answered ? threads.filter((t) => !t.resolved) : awaitingAuthor(threads, author);
      const head = `${shortRef(r, number)}: ${threads.length} review thread(s), ${threads.filter((t) => t.resolved).length} resolved, ${open.length} ${include_answered ? 'unresolved' : `waiting on the author (${s.deps.team.describeLogin(author)})`}.`;
      if (!open.length) return head;
      const parts = [head];
      for (const t of open) {
        const where = `${t.root.path}:${t.root.line ?? t.root.original_line ?? '?'}${t.outdated ? ' (outdated)' : ''}`;
        parts.push(`Thread at ${where} — reply with comment_id ${t.root.id}:`);
        parts.push(
          untrusted(
            `review thread ${t.root.id} on ${where}`,
            [t.root, ...t.replies].map((c) => `${c.user?.login ?? 'someone'}: ${c.body.replace(/<!-- pantheon:[^>]*-->/g, '').trim()}`).join('\n---\n'),
          ),
        );
      }
      return parts.join('\n');
    },
  };
}

const replySchema = z.object({
  repo: repoArg,
  number: prArg,
  comment_id: z.number().int().positive().describe("The id of the thread's first comment (from list_unresolved_review_threads)"),
  body: z.string().min(1).max(60000),
});

function replyToReviewComment(s: GitHubSession): PantheonTool<typeof replySchema> {
  return {
    name: 'reply_to_review_comment',
    description: 'Reply, as you, in an inline review thread on a pull request (e.g. say what you changed, or why not).',
    risk: 'write',
    schema: replySchema,
    async run({ repo, number, comment_id, body }, call) {
      const r = parseRepo(repo);
      const comments = await onGitHub('list review comments', () => s.client.paginate(s.client.rest.pulls.listReviewComments, { ...r, pull_number: number, per_page: 100 }));
      const done = comments.find((c) => hasMarker(c.body, call.id));
      if (done) return `Already replied (this call ran before): ${done.html_url}`;
      const root = comments.find((c) => c.id === comment_id);
      if (!root) return `No review comment ${comment_id} on ${shortRef(r, number)}: use an id from list_unresolved_review_threads.`;
      const reply = (
        await onGitHub('reply to the review comment', () =>
          s.client.rest.pulls.createReplyForReviewComment({ ...r, pull_number: number, comment_id: root.in_reply_to_id ?? root.id, body: withMarker(body, call.id) }),
        )
      ).data;
      return `Replied on ${root.path}:${root.line ?? root.original_line ?? '?'}: ${reply.html_url}`;
    },
  };
}
