/** Pull requests: create from a pushed branch, read (JSON or real git diff), files, reviewers, merge. */
import { issuesEvent, notify, pullRequestEvent, pullStats } from '../events.js';
import { branches, changedFiles, formatPatch, git, mergeBranch, resolveCommit, unifiedDiff, type MergeMethod } from '../git-repo.js';
import { DOCS, HttpError, intParam, missingField, notFound, paginate, requireActor, requireRepo, requireWrite, validationFailed, type RequestContext, type Router } from '../http.js';
import { pullJson, userJson } from '../shapes.js';
import type { GitHubStore, RepoState } from '../store.js';
import type { Pull } from '../types.js';
import { applyEdit } from './item-edit.js';

const PULL = '/repos/:owner/:repo/pulls/:number';

export function requirePull(state: RepoState, ctx: RequestContext): Pull {
  const pull = state.pulls.get(intParam(ctx, 'number'));
  if (!pull) throw notFound();
  return pull;
}

/** `head` may be `branch` or `owner:branch`; forks are not modelled, so the owner must be the repo's. */
function headBranch(state: RepoState, head: string): string | null {
  const i = head.indexOf(':');
  if (i < 0) return head;
  return head.slice(0, i).toLowerCase() === state.repo.owner.toLowerCase() ? head.slice(i + 1) : null;
}

function custom(message: string): HttpError {
  return validationFailed([{ resource: 'PullRequest', code: 'custom', message }]);
}

/** Issues a merged PR closes (`closes #12`, `fixes #3`, `resolved #7`). */
function closingRefs(text: string | null): number[] {
  return [...(text ?? '').matchAll(/\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+#(\d+)\b/gi)].map((m) => Number(m[1]));
}

export function registerPullRoutes(router: Router, store: GitHubStore): void {
  router.add('POST', '/repos/:owner/:repo/pulls', async (ctx) => {
    const state = requireRepo(store, ctx);
    const actor = requireActor(ctx);
    const body = ctx.body ?? {};
    if (typeof body.head !== 'string' || !body.head) throw missingField('PullRequest', 'head');
    if (typeof body.base !== 'string' || !body.base) throw missingField('PullRequest', 'base');
    if (typeof body.title !== 'string' && body.issue === undefined) throw missingField('PullRequest', 'title');
    const refs = await branches(state.repo.path);
    const head = headBranch(state, body.head);
    if (!head || !refs.has(head)) throw validationFailed([{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
    if (!refs.has(body.base)) throw validationFailed([{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
    const existing = [...state.pulls.values()].find((p) => p.state === 'open' && p.head === head && p.base === body.base);
    if (existing) throw custom(`A pull request already exists for ${state.repo.owner}:${head}.`);
    const headSha = refs.get(head)!;
    const baseSha = refs.get(body.base)!;
    const ahead = Number((await git(state.repo.path, ['rev-list', '--count', `${baseSha}..${headSha}`])).trim());
    if (ahead === 0) throw custom(`No commits between ${body.base} and ${head}`);
    const number = state.nextNumber++;
    const now = store.now();
    const pull: Pull = {
      id: store.nextId('issue'),
      number,
      title: String(body.title),
      body: typeof body.body === 'string' ? body.body : null,
      state: 'open',
      draft: body.draft === true,
      labels: [],
      assignees: [],
      author: actor.login,
      head,
      headSha,
      base: body.base,
      baseSha,
      requestedReviewers: [],
      merged: false,
      mergedBy: null,
      mergeCommitSha: null,
      htmlUrl: `${state.repo.htmlUrl}/pull/${number}`,
      createdAt: now,
      updatedAt: now,
      closedAt: null,
      mergedAt: null,
    };
    state.pulls.set(number, pull);
    ctx.events.push(await pullRequestEvent(store, state, 'opened', pull, actor.login));
    notify(store, state, pull, actor.login, [], { text: pull.body });
    const url = `${store.url}/repos/${state.repo.fullName}/pulls/${number}`;
    return { status: 201, json: pullJson(store, state, pull, await pullStats(state, pull)), headers: { location: url } };
  });

  router.add('GET', '/repos/:owner/:repo/pulls', (ctx) => {
    const state = requireRepo(store, ctx);
    const wantState = ctx.query.get('state') ?? 'open';
    const head = ctx.query.get('head');
    const base = ctx.query.get('base');
    const dir = ctx.query.get('direction') === 'asc' ? 1 : -1;
    const sort = ctx.query.get('sort') ?? 'created';
    const list = [...state.pulls.values()]
      .filter((p) => (wantState === 'all' || p.state === wantState) && (!head || headBranch(state, head) === p.head) && (!base || p.base === base))
      .sort((a, b) => (sort === 'updated' ? (a.updatedAt < b.updatedAt ? -1 : 1) : a.number - b.number) * dir);
    return paginate(store, ctx, list, (p) => pullJson(store, state, p));
  });

  router.add('GET', PULL, async (ctx) => {
    const state = requireRepo(store, ctx);
    const pull = requirePull(state, ctx);
    const accept = String(ctx.headers.accept ?? '');
    if (/\.diff\b|\bdiff\b/.test(accept) && !accept.includes('json')) {
      return { text: await unifiedDiff(state.repo.path, pull.baseSha, pull.headSha), contentType: 'application/vnd.github.v3.diff; charset=utf-8' };
    }
    if (/\.patch\b/.test(accept)) {
      return { text: await formatPatch(state.repo.path, pull.baseSha, pull.headSha), contentType: 'application/vnd.github.v3.patch; charset=utf-8' };
    }
    return { json: pullJson(store, state, pull, await pullStats(state, pull)) };
  });

  router.add('PATCH', PULL, async (ctx) => {
    const state = requireRepo(store, ctx);
    const actor = requireActor(ctx);
    const pull = requirePull(state, ctx);
    if (!store.canWrite(state, actor.login) && pull.author.toLowerCase() !== actor.login.toLowerCase()) throw notFound();
    const body = ctx.body ?? {};
    if (typeof body.base === 'string' && body.base !== pull.base) {
      const sha = await resolveCommit(state.repo.path, `refs/heads/${body.base}`);
      if (!sha) throw validationFailed([{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
      pull.base = body.base;
      pull.baseSha = sha;
    }
    const events = await applyEdit(store, state, pull, actor.login, {
      title: body.title,
      body: body.body,
      state: body.state === 'open' || body.state === 'closed' ? body.state : undefined,
    });
    ctx.events.push(...events);
    return { json: pullJson(store, state, pull, await pullStats(state, pull)) };
  });

  router.add('GET', `${PULL}/files`, async (ctx) => {
    const state = requireRepo(store, ctx);
    const pull = requirePull(state, ctx);
    const files = await changedFiles(state.repo.path, pull.baseSha, pull.headSha);
    const blob = (f: { filename: string }): string => `${state.repo.htmlUrl}/blob/${pull.headSha}/${f.filename}`;
    return paginate(store, ctx, files, (f) => ({
      ...f,
      blob_url: blob(f),
      raw_url: `${state.repo.htmlUrl}/raw/${pull.headSha}/${f.filename}`,
      contents_url: `${store.url}/repos/${state.repo.fullName}/contents/${f.filename}?ref=${pull.headSha}`,
    }));
  });

  router.add('GET', `${PULL}/commits`, async (ctx) => {
    const state = requireRepo(store, ctx);
    const pull = requirePull(state, ctx);
    const out = await git(state.repo.path, ['log', '--reverse', '--format=%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%B%x1e', `${pull.baseSha}..${pull.headSha}`]);
    const commits = out
      .split('\x1e')
      .map((r) => r.trim())
      .filter(Boolean)
      .map((r) => {
        const [sha, parents, name, email, date, message] = r.split('\x1f');
        const who = { name, email, date };
        return {
          sha,
          node_id: `C_${sha}`,
          url: `${store.url}/repos/${state.repo.fullName}/commits/${sha}`,
          html_url: `${state.repo.htmlUrl}/commit/${sha}`,
          commit: { author: who, committer: who, message: message.trim(), tree: { sha: '' } },
          author: store.user(name) ? userJson(store, name) : null,
          committer: store.user(name) ? userJson(store, name) : null,
          parents: parents
            .split(' ')
            .filter(Boolean)
            .map((p) => ({ sha: p })),
        };
      });
    return paginate(store, ctx, commits, (c) => c);
  });

  router.add('GET', `${PULL}/requested_reviewers`, (ctx) => {
    const state = requireRepo(store, ctx);
    const pull = requirePull(state, ctx);
    return { json: { users: pull.requestedReviewers.map((l) => userJson(store, l)), teams: [] } };
  });

  router.add('POST', `${PULL}/requested_reviewers`, async (ctx) => {
    const state = requireRepo(store, ctx);
    const actor = requireActor(ctx);
    const pull = requirePull(state, ctx);
    if (!store.canWrite(state, actor.login) && pull.author.toLowerCase() !== actor.login.toLowerCase()) throw notFound();
    const wanted: string[] = Array.isArray(ctx.body?.reviewers) ? ctx.body.reviewers.map(String) : [];
    for (const login of wanted) {
      if (login.toLowerCase() === pull.author.toLowerCase()) {
        throw validationFailed([], 'Review cannot be requested from pull request author.');
      }
      const user = store.user(login);
      if (!user || !store.isCollaborator(state, user.login)) {
        throw validationFailed([], `Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the ${state.repo.fullName} repository.`);
      }
    }
    const added = [...new Set(wanted.map((l) => store.user(l)!.login))].filter((l) => !pull.requestedReviewers.includes(l));
    pull.requestedReviewers.push(...added);
    if (added.length > 0) pull.updatedAt = store.now();
    for (const login of added) {
      ctx.events.push(await pullRequestEvent(store, state, 'review_requested', pull, actor.login, { requested_reviewer: userJson(store, login) }));
    }
    notify(
      store,
      state,
      pull,
      actor.login,
      added.map((l) => [l, 'review_requested']),
    );
    return { status: 201, json: pullJson(store, state, pull) };
  });

  router.add('DELETE', `${PULL}/requested_reviewers`, async (ctx) => {
    const state = requireRepo(store, ctx);
    const actor = requireActor(ctx);
    const pull = requirePull(state, ctx);
    const drop: string[] = Array.isArray(ctx.body?.reviewers) ? ctx.body.reviewers.map((l: unknown) => String(l).toLowerCase()) : [];
    const removed = pull.requestedReviewers.filter((l) => drop.includes(l.toLowerCase()));
    pull.requestedReviewers = pull.requestedReviewers.filter((l) => !drop.includes(l.toLowerCase()));
    for (const login of removed) {
      ctx.events.push(await pullRequestEvent(store, state, 'review_request_removed', pull, actor.login, { requested_reviewer: userJson(store, login) }));
    }
    return { json: pullJson(store, state, pull) };
  });

  router.add('GET', `${PULL}/merge`, (ctx) => {
    const state = requireRepo(store, ctx);
    const pull = requirePull(state, ctx);
    if (!pull.merged) throw notFound();
    return { status: 204 };
  });

  router.add('PUT', `${PULL}/merge`, async (ctx) => {
    const state = requireRepo(store, ctx);
    const actor = requireWrite(store, state, ctx);
    const pull = requirePull(state, ctx);
    const body = ctx.body ?? {};
    const method: MergeMethod = body.merge_method ?? 'merge';
    if (!['merge', 'squash', 'rebase'].includes(method)) throw validationFailed([{ resource: 'PullRequest', field: 'merge_method', code: 'invalid' }]);
    if (pull.state !== 'open') throw new HttpError(405, { message: 'Pull Request is not mergeable', documentation_url: DOCS, status: '405' });
    if (body.sha && body.sha !== pull.headSha) {
      throw new HttpError(409, { message: 'Head branch was modified. Review and try the merge again.', documentation_url: DOCS, status: '409' });
    }
    const title = body.commit_title ?? (method === 'merge' ? `Merge pull request #${pull.number} from ${state.repo.owner}/${pull.head}` : `${pull.title} (#${pull.number})`);
    const message = `${title}\n\n${body.commit_message ?? (method === 'merge' ? pull.title : '')}`.trimEnd() + '\n';
    const baseSha = (await resolveCommit(state.repo.path, `refs/heads/${pull.base}`)) ?? pull.baseSha;
    const sha = await mergeBranch(state.repo.path, { base: pull.base, baseSha, head: pull.headSha, method, message, actor });
    if (!sha) throw new HttpError(405, { message: 'Merge conflict', documentation_url: DOCS, status: '405' });
    const now = store.now();
    Object.assign(pull, { state: 'closed', merged: true, mergedBy: actor.login, mergeCommitSha: sha, mergedAt: now, closedAt: now, updatedAt: now, baseSha });
    ctx.events.push(await pullRequestEvent(store, state, 'closed', pull, actor.login));
    for (const other of state.pulls.values()) if (other.state === 'open' && other.base === pull.base) other.baseSha = sha;
    notify(store, state, pull, actor.login, [[pull.author, 'state_change']]);
    if (pull.base === state.repo.defaultBranch) {
      for (const n of closingRefs(`${pull.title}\n${pull.body ?? ''}`)) {
        const issue = state.issues.get(n);
        if (!issue || issue.state !== 'open') continue;
        Object.assign(issue, { state: 'closed', stateReason: 'completed', closedAt: now, updatedAt: now });
        ctx.events.push(issuesEvent(store, state, 'closed', issue, actor.login));
      }
    }
    return { json: { sha, merged: true, message: 'Pull Request successfully merged' } };
  });
}
