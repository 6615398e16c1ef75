/**
 * Pull request reviews and inline review comments. Inline comments are checked against the real
 * diff (path changed, line inside a hunk on that side), as GitHub does.
 */
import { notify, participants, withBase } from '../events.js';
import { changedFiles, hunkFor, type ChangedFile } from '../git-repo.js';
import { DOCS, HttpError, intParam, missingField, notFound, paginate, requireActor, requireRepo, type RequestContext, type Router } from '../http.js';
import { pullJson, reviewCommentJson, reviewJson } from '../shapes.js';
import type { GitHubStore, RepoState } from '../store.js';
import type { Pull, Review, ReviewComment } from '../types.js';
import { requirePull } from './pulls.js';

const PULL = '/repos/:owner/:repo/pulls/:number';
const EVENT_STATE: Record<string, Review['state']> = { APPROVE: 'APPROVED', REQUEST_CHANGES: 'CHANGES_REQUESTED', COMMENT: 'COMMENTED' };

function unprocessable(...errors: string[]): HttpError {
  return new HttpError(422, { message: 'Unprocessable Entity', errors, documentation_url: DOCS, status: '422' });
}

interface InlineInput {
  path?: string;
  line?: number;
  side?: 'LEFT' | 'RIGHT';
  start_line?: number;
  position?: number;
  body?: string;
}

/** Legacy `position` (line index in the file's patch, counting from the first hunk header) → line + side. */
function fromPosition(patch: string, position: number): { line: number; side: 'LEFT' | 'RIGHT' } | null {
  const lines = patch.split('\n');
  let oldLine = 0;
  let newLine = 0;
  for (let i = 0; i < lines.length && i <= position; i++) {
    const header = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(lines[i]);
    if (header) {
      oldLine = Number(header[1]);
      newLine = Number(header[2]);
      continue;
    }
    const kind = lines[i][0];
    if (i === position) return kind === '-' ? { line: oldLine, side: 'LEFT' } : { line: newLine, side: 'RIGHT' };
    if (kind !== '+') oldLine++;
    if (kind !== '-') newLine++;
  }
  return null;
}

/** Validates one inline comment against the diff and builds its record. */
function inlineComment(store: GitHubStore, pull: Pull, files: ChangedFile[], input: InlineInput, reviewId: number, author: string): ReviewComment {
  if (typeof input.body !== 'string' || !input.body) throw missingField('PullRequestReviewComment', 'body');
  const file = files.find((f) => f.filename === input.path);
  if (!file) throw unprocessable('Path could not be resolved');
  let line = Number(input.line);
  let side: 'LEFT' | 'RIGHT' = input.side === 'LEFT' ? 'LEFT' : 'RIGHT';
  if (!input.line && input.position !== undefined) {
    const at = fromPosition(file.patch ?? '', Number(input.position));
    if (!at) throw unprocessable('Position could not be resolved');
    ({ line, side } = at);
  }
  const hunk = Number.isInteger(line) && line > 0 ? hunkFor(file.patch, line, side) : null;
  if (!hunk) throw unprocessable('Line could not be resolved');
  const id = store.nextId('reviewComment');
  const now = store.now();
  return {
    id,
    number: pull.number,
    reviewId,
    author,
    path: file.filename,
    line,
    side,
    startLine: input.start_line ?? null,
    body: input.body,
    commitId: pull.headSha,
    inReplyToId: null,
    resolved: false,
    diffHunk: hunk,
    htmlUrl: `${pull.htmlUrl}#discussion_r${id}`,
    createdAt: now,
    updatedAt: now,
  };
}

export function registerReviewRoutes(router: Router, store: GitHubStore): void {
  /** Webhooks and notifications for a submitted review and its inline comments. */
  const submitted = async (ctx: RequestContext, state: RepoState, pull: Pull, review: Review, comments: ReviewComment[]): Promise<void> => {
    const followers = participants(state, pull);
    pull.requestedReviewers = pull.requestedReviewers.filter((l) => l.toLowerCase() !== review.author.toLowerCase());
    pull.updatedAt = review.submittedAt ?? store.now();
    const pullPayload = pullJson(store, state, pull);
    for (const c of comments) {
      const payload = { action: 'created', comment: reviewCommentJson(store, state, c), pull_request: pullPayload };
      ctx.events.push({ event: 'pull_request_review_comment', payload: withBase(store, state, review.author, payload) });
    }
    const payload = { action: 'submitted', review: reviewJson(store, state, review), pull_request: pullPayload };
    ctx.events.push({ event: 'pull_request_review', payload: withBase(store, state, review.author, payload) });
    const text = [review.body, ...comments.map((c) => c.body)].join('\n');
    notify(store, state, pull, review.author, followers, { text, commentUrl: comments[0] ? reviewCommentJson(store, state, comments[0]).url : undefined });
  };

  const newReview = (pull: Pull, author: string, reviewState: Review['state'], body: string): Review => {
    const id = store.nextId('review');
    return {
      id,
      number: pull.number,
      author,
      state: reviewState,
      body,
      commitId: pull.headSha,
      htmlUrl: `${pull.htmlUrl}#pullrequestreview-${id}`,
      submittedAt: reviewState === 'PENDING' ? null : store.now(),
    };
  };

  const checkOwnPull = (pull: Pull, author: string, reviewState: Review['state']): void => {
    if (pull.author.toLowerCase() !== author.toLowerCase()) return;
    if (reviewState === 'APPROVED') throw unprocessable('Can not approve your own pull request');
    if (reviewState === 'CHANGES_REQUESTED') throw unprocessable('Can not request changes on your own pull request');
  };

  router.add('POST', `${PULL}/reviews`, async (ctx) => {
    const state = requireRepo(store, ctx);
    const actor = requireActor(ctx);
    const pull = requirePull(state, ctx);
    const body = ctx.body ?? {};
    const reviewState = body.event ? EVENT_STATE[String(body.event)] : 'PENDING';
    if (!reviewState) throw unprocessable(`Unexpected event: ${body.event}`);
    checkOwnPull(pull, actor.login, reviewState);
    const inputs: InlineInput[] = Array.isArray(body.comments) ? body.comments : [];
    if ((reviewState === 'CHANGES_REQUESTED' || reviewState === 'COMMENTED') && !body.body && inputs.length === 0) {
      throw unprocessable(`Review body is required when using ${body.event}`);
    }
    const review = newReview(pull, actor.login, reviewState, typeof body.body === 'string' ? body.body : '');
    if (body.commit_id) review.commitId = String(body.commit_id);
    const files = inputs.length > 0 ? await changedFiles(state.repo.path, pull.baseSha, pull.headSha) : [];
    const comments = inputs.map((input) => inlineComment(store, pull, files, input, review.id, actor.login));
    state.reviews.push(review);
    state.reviewComments.push(...comments);
    if (reviewState !== 'PENDING') await submitted(ctx, state, pull, review, comments);
    return { json: reviewJson(store, state, review) };
  });

  const requireReview = (state: RepoState, pull: Pull, ctx: RequestContext): Review => {
    const review = state.reviews.find((r) => r.id === intParam(ctx, 'review_id') && r.number === pull.number);
    if (!review) throw notFound();
    return review;
  };

  router.add('POST', `${PULL}/reviews/:review_id/events`, async (ctx) => {
    const state = requireRepo(store, ctx);
    const actor = requireActor(ctx);
    const pull = requirePull(state, ctx);
    const review = requireReview(state, pull, ctx);
    if (review.author.toLowerCase() !== actor.login.toLowerCase()) throw notFound();
    if (review.state !== 'PENDING') throw unprocessable('Can not submit a review that is not pending');
    const reviewState = EVENT_STATE[String(ctx.body?.event)];
    if (!reviewState) throw unprocessable(`Unexpected event: ${ctx.body?.event}`);
    checkOwnPull(pull, actor.login, reviewState);
    Object.assign(review, { state: reviewState, submittedAt: store.now(), body: ctx.body?.body ?? review.body });
    await submitted(
      ctx,
      state,
      pull,
      review,
      state.reviewComments.filter((c) => c.reviewId === review.id),
    );
    return { json: reviewJson(store, state, review) };
  });

  router.add('GET', `${PULL}/reviews`, (ctx) => {
    const state = requireRepo(store, ctx);
    const pull = requirePull(state, ctx);
    const visible = state.reviews.filter((r) => r.number === pull.number && (r.state !== 'PENDING' || r.author === ctx.actor?.login));
    return paginate(store, ctx, visible, (r) => reviewJson(store, state, r));
  });

  router.add('GET', `${PULL}/reviews/:review_id`, (ctx) => {
    const state = requireRepo(store, ctx);
    const pull = requirePull(state, ctx);
    return { json: reviewJson(store, state, requireReview(state, pull, ctx)) };
  });

  router.add('GET', `${PULL}/reviews/:review_id/comments`, (ctx) => {
    const state = requireRepo(store, ctx);
    const pull = requirePull(state, ctx);
    const review = requireReview(state, pull, ctx);
    return paginate(
      store,
      ctx,
      state.reviewComments.filter((c) => c.reviewId === review.id),
      (c) => reviewCommentJson(store, state, c),
    );
  });

  router.add('GET', `${PULL}/comments`, (ctx) => {
    const state = requireRepo(store, ctx);
    const pull = requirePull(state, ctx);
    const pending = new Set(state.reviews.filter((r) => r.state === 'PENDING' && r.author !== ctx.actor?.login).map((r) => r.id));
    const list = state.reviewComments.filter((c) => c.number === pull.number && !pending.has(c.reviewId));
    return paginate(store, ctx, list, (c) => reviewCommentJson(store, state, c));
  });

  router.add('GET', '/repos/:owner/:repo/pulls/comments', (ctx) => {
    const state = requireRepo(store, ctx);
    return paginate(store, ctx, state.reviewComments, (c) => reviewCommentJson(store, state, c));
  });

  const requireReviewComment = (state: RepoState, id: number): ReviewComment => {
    const comment = state.reviewComments.find((c) => c.id === id);
    if (!comment) throw notFound();
    return comment;
  };

  router.add('GET', '/repos/:owner/:repo/pulls/comments/:comment_id', (ctx) => {
    const state = requireRepo(store, ctx);
    return { json: reviewCommentJson(store, state, requireReviewComment(state, intParam(ctx, 'comment_id'))) };
  });

  /** A reply: GitHub wraps it in its own COMMENTED review; replies to replies join the root's thread. */
  const reply = async (ctx: RequestContext, state: RepoState, pull: Pull, toId: number, text: unknown): Promise<ReviewComment> => {
    const actor = requireActor(ctx);
    const target = requireReviewComment(state, toId);
    if (target.number !== pull.number) throw notFound();
    if (typeof text !== 'string' || !text) throw missingField('PullRequestReviewComment', 'body');
    const root = target.inReplyToId ? requireReviewComment(state, target.inReplyToId) : target;
    const review = newReview(pull, actor.login, 'COMMENTED', '');
    const id = store.nextId('reviewComment');
    const now = store.now();
    const comment: ReviewComment = {
      ...root,
      id,
      reviewId: review.id,
      author: actor.login,
      body: text,
      inReplyToId: root.id,
      resolved: false,
      htmlUrl: `${pull.htmlUrl}#discussion_r${id}`,
      createdAt: now,
      updatedAt: now,
    };
    state.reviews.push(review);
    state.reviewComments.push(comment);
    await submitted(ctx, state, pull, review, [comment]);
    return comment;
  };

  router.add('POST', `${PULL}/comments/:comment_id/replies`, async (ctx) => {
    const state = requireRepo(store, ctx);
    const pull = requirePull(state, ctx);
    const comment = await reply(ctx, state, pull, intParam(ctx, 'comment_id'), ctx.body?.body);
    return { status: 201, json: reviewCommentJson(store, state, comment) };
  });

  /** A single review comment outside a review (or a reply via `in_reply_to`). */
  router.add('POST', `${PULL}/comments`, async (ctx) => {
    const state = requireRepo(store, ctx);
    const actor = requireActor(ctx);
    const pull = requirePull(state, ctx);
    const body = ctx.body ?? {};
    if (body.in_reply_to) {
      const comment = await reply(ctx, state, pull, Number(body.in_reply_to), body.body);
      return { status: 201, json: reviewCommentJson(store, state, comment) };
    }
    const review = newReview(pull, actor.login, 'COMMENTED', '');
    const files = await changedFiles(state.repo.path, pull.baseSha, pull.headSha);
    const comment = inlineComment(store, pull, files, body, review.id, actor.login);
    state.reviews.push(review);
    state.reviewComments.push(comment);
    await submitted(ctx, state, pull, review, [comment]);
    return { status: 201, json: reviewCommentJson(store, state, comment) };
  });

  router.add('PATCH', '/repos/:owner/:repo/pulls/comments/:comment_id', (ctx) => {
    const state = requireRepo(store, ctx);
    const actor = requireActor(ctx);
    const comment = requireReviewComment(state, intParam(ctx, 'comment_id'));
    if (comment.author.toLowerCase() !== actor.login.toLowerCase()) throw notFound();
    if (typeof ctx.body?.body !== 'string') throw missingField('PullRequestReviewComment', 'body');
    comment.body = ctx.body.body;
    comment.updatedAt = store.now();
    return { json: reviewCommentJson(store, state, comment) };
  });
}
