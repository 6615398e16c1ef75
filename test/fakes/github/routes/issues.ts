/** Issues, their labels, assignees and conversation comments (which pull requests share). */
import { commentEvent, issuesEvent, notify, participants } from '../events.js';
import { intParam, missingField, notFound, paginate, requireActor, requireRepo, type RequestContext, type Router } from '../http.js';
import { commentJson, issueJson, labelJson, userJson } from '../shapes.js';
import type { GitHubStore, RepoState } from '../store.js';
import type { Comment, Issue, Pull } from '../types.js';
import { applyEdit, assignable, checkAssignees } from './item-edit.js';

const ISSUE = '/repos/:owner/:repo/issues/:number';

function requireItem(store: GitHubStore, state: RepoState, ctx: RequestContext): Issue | Pull {
  const found = store.thread(state, intParam(ctx, 'number'));
  if (!found) throw notFound();
  return found.item;
}

function stringList(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) return [String(value)];
  return value.map((v) => (typeof v === 'object' && v && 'name' in v ? String((v as { name: unknown }).name) : String(v)));
}

/** `labels` arrive as `{labels: [...]}` or a bare array. */
function labelsFromBody(body: unknown): string[] {
  if (Array.isArray(body)) return stringList(body) ?? [];
  return stringList((body as { labels?: unknown } | null)?.labels) ?? [];
}

function sortItems<T extends Issue | Pull>(state: RepoState, ctx: RequestContext, items: T[]): T[] {
  const sort = ctx.query.get('sort') ?? 'created';
  const dir = ctx.query.get('direction') === 'asc' ? 1 : -1;
  const key = (i: T): number | string => (sort === 'updated' ? i.updatedAt : sort === 'comments' ? state.comments.filter((c) => c.number === i.number).length : i.number);
  return [...items].sort((a, b) => (key(a) < key(b) ? -dir : key(a) > key(b) ? dir : (a.number - b.number) * dir));
}

export function registerIssueRoutes(router: Router, store: GitHubStore): void {
  router.add('GET', '/repos/:owner/:repo/issues', (ctx) => {
    const state = requireRepo(store, ctx);
    const wantState = ctx.query.get('state') ?? 'open';
    const labels = (ctx.query.get('labels') ?? '')
      .split(',')
      .map((l) => l.trim().toLowerCase())
      .filter(Boolean);
    const assignee = ctx.query.get('assignee');
    const creator = ctx.query.get('creator');
    const mentioned = ctx.query.get('mentioned');
    const since = ctx.query.get('since');
    const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
    const all: Array<Issue | Pull> = [...state.issues.values(), ...state.pulls.values()];
    const items = all.filter((i) => {
      if (wantState !== 'all' && i.state !== wantState) return false;
      if (!labels.every((l) => i.labels.some((x) => x.toLowerCase() === l))) return false;
      if (assignee === 'none' && i.assignees.length > 0) return false;
      if (assignee === '*' && i.assignees.length === 0) return false;
      if (assignee && assignee !== 'none' && assignee !== '*' && !i.assignees.some((a) => same(a, assignee))) return false;
      if (creator && !same(i.author, creator)) return false;
      if (mentioned && !(i.body ?? '').toLowerCase().includes(`@${mentioned.toLowerCase()}`)) return false;
      if (since && i.updatedAt < since) return false;
      return true;
    });
    return paginate(store, ctx, sortItems(state, ctx, items), (i) => issueJson(store, state, i));
  });

  router.add('POST', '/repos/:owner/:repo/issues', async (ctx) => {
    const state = requireRepo(store, ctx);
    const actor = requireActor(ctx);
    const body = ctx.body ?? {};
    if (typeof body.title !== 'string' && typeof body.title !== 'number') throw missingField('Issue', 'title');
    const writer = store.canWrite(state, actor.login);
    // Without push access GitHub silently drops labels and assignees.
    const assignees = writer ? checkAssignees(store, state, null, stringList(body.assignees ?? (body.assignee ? [body.assignee] : [])) ?? [], 'Issue') : [];
    const labels = writer ? (stringList(body.labels) ?? []).map((name) => store.label(state, name).name) : [];
    const number = state.nextNumber++;
    const now = store.now();
    const issue: Issue = {
      id: store.nextId('issue'),
      number,
      title: String(body.title),
      body: typeof body.body === 'string' ? body.body : null,
      state: 'open',
      stateReason: null,
      labels,
      assignees,
      author: actor.login,
      htmlUrl: `${state.repo.htmlUrl}/issues/${number}`,
      createdAt: now,
      updatedAt: now,
      closedAt: null,
    };
    state.issues.set(number, issue);
    ctx.events.push(issuesEvent(store, state, 'opened', issue, actor.login));
    for (const name of labels) ctx.events.push(issuesEvent(store, state, 'labeled', issue, actor.login, { label: labelJson(store, state, store.label(state, name)) }));
    for (const login of assignees) ctx.events.push(issuesEvent(store, state, 'assigned', issue, actor.login, { assignee: userJson(store, login) }));
    notify(
      store,
      state,
      issue,
      actor.login,
      assignees.map((l) => [l, 'assign']),
      { text: issue.body },
    );
    return { status: 201, json: issueJson(store, state, issue), headers: { location: `${store.url}/repos/${state.repo.fullName}/issues/${number}` } };
  });

  router.add('GET', ISSUE, (ctx) => {
    const state = requireRepo(store, ctx);
    return { json: issueJson(store, state, requireItem(store, state, ctx)) };
  });

  router.add('PATCH', ISSUE, async (ctx) => {
    const state = requireRepo(store, ctx);
    const actor = requireActor(ctx);
    const item = requireItem(store, state, ctx);
    const body = ctx.body ?? {};
    const writer = store.canWrite(state, actor.login);
    const isAuthor = item.author.toLowerCase() === actor.login.toLowerCase();
    if (!writer && !isAuthor) throw notFound();
    const events = await applyEdit(store, state, item, actor.login, {
      title: body.title,
      body: body.body,
      state: body.state === 'open' || body.state === 'closed' ? body.state : undefined,
      stateReason: body.state_reason,
      labels: writer ? stringList(body.labels) : undefined,
      assignees: writer ? stringList(body.assignees ?? (body.assignee !== undefined ? (body.assignee ? [body.assignee] : []) : undefined)) : undefined,
    });
    ctx.events.push(...events);
    return { json: issueJson(store, state, item) };
  });

  router.add('POST', `${ISSUE}/assignees`, async (ctx) => {
    const state = requireRepo(store, ctx);
    const actor = requireActor(ctx);
    const item = requireItem(store, state, ctx);
    if (store.canWrite(state, actor.login)) {
      // Users who cannot be assigned are ignored, as on GitHub.
      const add = (stringList(ctx.body?.assignees) ?? []).filter((l) => assignable(store, state, item, l)).map((l) => store.user(l)!.login);
      ctx.events.push(...(await applyEdit(store, state, item, actor.login, { assignees: [...new Set([...item.assignees, ...add])] })));
    }
    return { status: 201, json: issueJson(store, state, item) };
  });

  router.add('DELETE', `${ISSUE}/assignees`, async (ctx) => {
    const state = requireRepo(store, ctx);
    const actor = requireActor(ctx);
    const item = requireItem(store, state, ctx);
    if (store.canWrite(state, actor.login)) {
      const drop = (stringList(ctx.body?.assignees) ?? []).map((l) => l.toLowerCase());
      ctx.events.push(...(await applyEdit(store, state, item, actor.login, { assignees: item.assignees.filter((l) => !drop.includes(l.toLowerCase())) })));
    }
    return { json: issueJson(store, state, item) };
  });

  const labelList = (state: RepoState, item: Issue | Pull): unknown => item.labels.map((n) => labelJson(store, state, store.label(state, n)));

  router.add('GET', `${ISSUE}/labels`, (ctx) => {
    const state = requireRepo(store, ctx);
    return { json: labelList(state, requireItem(store, state, ctx)) };
  });

  for (const method of ['POST', 'PUT'] as const) {
    router.add(method, `${ISSUE}/labels`, async (ctx) => {
      const state = requireRepo(store, ctx);
      const actor = requireActor(ctx);
      const item = requireItem(store, state, ctx);
      if (!store.canWrite(state, actor.login)) throw notFound();
      const given = labelsFromBody(ctx.body);
      const labels = method === 'PUT' ? given : [...item.labels, ...given.filter((g) => !item.labels.some((l) => l.toLowerCase() === g.toLowerCase()))];
      ctx.events.push(...(await applyEdit(store, state, item, actor.login, { labels })));
      return { json: labelList(state, item) };
    });
  }

  router.add('DELETE', `${ISSUE}/labels/:name`, async (ctx) => {
    const state = requireRepo(store, ctx);
    const actor = requireActor(ctx);
    const item = requireItem(store, state, ctx);
    if (!store.canWrite(state, actor.login)) throw notFound();
    if (!item.labels.some((l) => l.toLowerCase() === ctx.params.name.toLowerCase())) {
      throw notFound();
    }
    const labels = item.labels.filter((l) => l.toLowerCase() !== ctx.params.name.toLowerCase());
    ctx.events.push(...(await applyEdit(store, state, item, actor.login, { labels })));
    return { json: labelList(state, item) };
  });

  router.add('GET', '/repos/:owner/:repo/labels', (ctx) => {
    const state = requireRepo(store, ctx);
    return paginate(store, ctx, [...state.labels.values()], (l) => labelJson(store, state, l));
  });

  router.add('GET', `${ISSUE}/comments`, (ctx) => {
    const state = requireRepo(store, ctx);
    const item = requireItem(store, state, ctx);
    const since = ctx.query.get('since');
    const list = state.comments.filter((c) => c.number === item.number && (!since || c.updatedAt >= since));
    return paginate(store, ctx, list, (c) => commentJson(store, state, c));
  });

  router.add('GET', '/repos/:owner/:repo/issues/comments', (ctx) => {
    const state = requireRepo(store, ctx);
    return paginate(store, ctx, state.comments, (c) => commentJson(store, state, c));
  });

  router.add('POST', `${ISSUE}/comments`, (ctx) => {
    const state = requireRepo(store, ctx);
    const actor = requireActor(ctx);
    const item = requireItem(store, state, ctx);
    const text = ctx.body?.body;
    if (typeof text !== 'string' || text.length === 0) throw missingField('IssueComment', 'body');
    const now = store.now();
    const id = store.nextId('comment');
    const comment: Comment = { id, number: item.number, author: actor.login, body: text, htmlUrl: `${item.htmlUrl}#issuecomment-${id}`, createdAt: now, updatedAt: now };
    const followers = participants(state, item);
    state.comments.push(comment);
    item.updatedAt = now;
    const json = commentJson(store, state, comment);
    ctx.events.push(commentEvent(store, state, item, json, actor.login));
    notify(store, state, item, actor.login, followers, { text, commentUrl: json.url });
    return { status: 201, json, headers: { location: json.url } };
  });

  const requireComment = (state: RepoState, ctx: RequestContext): Comment => {
    const comment = state.comments.find((c) => c.id === intParam(ctx, 'id'));
    if (!comment) throw notFound();
    return comment;
  };

  router.add('GET', '/repos/:owner/:repo/issues/comments/:id', (ctx) => {
    const state = requireRepo(store, ctx);
    return { json: commentJson(store, state, requireComment(state, ctx)) };
  });

  router.add('PATCH', '/repos/:owner/:repo/issues/comments/:id', (ctx) => {
    const state = requireRepo(store, ctx);
    const actor = requireActor(ctx);
    const comment = requireComment(state, ctx);
    if (comment.author.toLowerCase() !== actor.login.toLowerCase() && !store.canWrite(state, actor.login)) throw notFound();
    if (typeof ctx.body?.body !== 'string') throw missingField('IssueComment', 'body');
    const from = comment.body;
    comment.body = ctx.body.body;
    comment.updatedAt = store.now();
    const item = store.thread(state, comment.number)!.item;
    const json = commentJson(store, state, comment);
    const event = commentEvent(store, state, item, json, actor.login);
    event.payload.action = 'edited';
    event.payload.changes = { body: { from } };
    ctx.events.push(event);
    return { json };
  });
}
