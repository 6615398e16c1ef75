/**
 * A deliberately tiny `POST /graphql`: no parser, it recognises the few operations review tools
 * need and answers with every field they might select.
 *   - `viewer { login }`
 *   - `repository(owner:, name:) { pullRequest(number:) { reviewThreads ... } }`
 *   - `resolveReviewThread(input: {threadId:})` / `unresolveReviewThread(...)`
 * Arguments may be literals or `$variables`. A thread's id is `nodeId('PRRT', rootCommentId)`.
 */
import { requireActor, type Router } from '../http.js';
import { nodeId, reviewCommentJson } from '../shapes.js';
import type { GitHubStore, RepoState } from '../store.js';
import type { ReviewComment } from '../types.js';

type Json = Record<string, any>;

function arg(query: string, variables: Json, name: string): string | undefined {
  const m = new RegExp(`\\b${name}\\s*:\\s*(\\$\\w+|"(?:[^"\\\\]|\\\\.)*"|-?\\d+)`).exec(query);
  if (!m) return undefined;
  const raw = m[1];
  if (raw.startsWith('$')) {
    const value = variables[raw.slice(1)];
    return value === undefined || value === null ? undefined : String(value);
  }
  return raw.startsWith('"') ? JSON.parse(raw) : raw;
}

function threadJson(store: GitHubStore, state: RepoState, root: ReviewComment): Json {
  const comments = state.reviewComments.filter((c) => c.id === root.id || c.inReplyToId === root.id);
  return {
    id: nodeId('PRRT', root.id),
    isResolved: root.resolved,
    isOutdated: false,
    isCollapsed: root.resolved,
    path: root.path,
    line: root.line,
    startLine: root.startLine,
    diffSide: root.side,
    comments: {
      totalCount: comments.length,
      pageInfo: { hasNextPage: false, endCursor: null },
      nodes: comments.map((c) => ({
        id: nodeId('PRRC', c.id),
        databaseId: c.id,
        body: c.body,
        path: c.path,
        line: c.line,
        author: { login: c.author },
        createdAt: c.createdAt,
        url: reviewCommentJson(store, state, c).html_url,
        replyTo: c.inReplyToId ? { databaseId: c.inReplyToId } : null,
      })),
    },
  };
}

export function registerGraphqlRoutes(router: Router, store: GitHubStore): void {
  router.add('POST', '/graphql', (ctx) => {
    const actor = requireActor(ctx);
    const query = String(ctx.body?.query ?? '');
    const variables: Json = ctx.body?.variables ?? {};
    const data: Json = {};

    const mutation = /\b(unresolveReviewThread|resolveReviewThread)\b/.exec(query);
    if (mutation) {
      const threadId = arg(query, variables, 'threadId');
      for (const state of store.repos.values()) {
        const root = state.reviewComments.find((c) => !c.inReplyToId && nodeId('PRRT', c.id) === threadId);
        if (!root) continue;
        if (!store.canWrite(state, actor.login) && root.author !== actor.login) break;
        root.resolved = mutation[1] === 'resolveReviewThread';
        data[mutation[1]] = { thread: threadJson(store, state, root) };
        return { json: { data } };
      }
      return { json: { data: { [mutation[1]]: null }, errors: [{ type: 'NOT_FOUND', path: [mutation[1]], message: `Could not resolve to a node with the global id of '${threadId}'` }] } };
    }

    if (/\bviewer\b/.test(query)) data.viewer = { login: actor.login, databaseId: actor.id, id: nodeId('U', actor.id) };

    if (/\breviewThreads\b/.test(query)) {
      const owner = arg(query, variables, 'owner');
      const name = arg(query, variables, 'name');
      const number = Number(arg(query, variables, 'number'));
      const state = owner && name ? store.repoState(owner, name) : undefined;
      const pull = state?.pulls.get(number);
      if (!state || !pull || store.permission(state, actor.login) === 'none') {
        return { json: { data: { repository: null }, errors: [{ type: 'NOT_FOUND', path: ['repository'], message: `Could not resolve to a Repository with the name '${owner}/${name}'.` }] } };
      }
      const roots = state.reviewComments.filter((c) => c.number === number && !c.inReplyToId);
      data.repository = {
        pullRequest: {
          number,
          id: nodeId('PR', pull.id),
          reviewThreads: {
            totalCount: roots.length,
            pageInfo: { hasNextPage: false, endCursor: null },
            nodes: roots.map((root) => threadJson(store, state, root)),
          },
        },
      };
    }

    if (Object.keys(data).length === 0) {
      return { json: { errors: [{ message: 'The fake GitHub answers only viewer, reviewThreads and (un)resolveReviewThread.' }] } };
    }
    return { json: { data } };
  });
}
