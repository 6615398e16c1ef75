/** `GET /notifications` and thread management, per authenticated user. */
import { notFound, paginate, requireActor, requireRepo, type RequestContext, type Router } from '../http.js';
import { notificationJson } from '../shapes.js';
import type { GitHubStore } from '../store.js';
import type { NotificationThread } from '../types.js';

export function registerNotificationRoutes(router: Router, store: GitHubStore): void {
  const list = (ctx: RequestContext, threads: NotificationThread[]) => {
    const all = ctx.query.get('all') === 'true';
    const participating = ctx.query.get('participating') === 'true';
    const since = ctx.query.get('since');
    const before = ctx.query.get('before');
    const mine = threads.filter((t) => t.login === ctx.actor!.login && !t.done);
    const lastModified = mine.reduce((max, t) => (t.updatedAt > max ? t.updatedAt : max), '1970-01-01T00:00:00Z');
    const headers = { 'x-poll-interval': '60', 'last-modified': new Date(lastModified).toUTCString() };
    // Conditional polling as GitHub documents it; a change within the same second still answers 200.
    const ifModifiedSince = ctx.headers['if-modified-since'];
    if (ifModifiedSince && Date.parse(lastModified) < Date.parse(ifModifiedSince)) return { status: 304, headers };
    const shown = mine
      .filter((t) => (all || t.unread) && (!participating || t.reason !== 'ci_activity') && (!since || t.updatedAt >= since) && (!before || t.updatedAt < before))
      .sort((a, b) => (a.updatedAt === b.updatedAt ? Number(b.id) - Number(a.id) : a.updatedAt < b.updatedAt ? 1 : -1));
    if (!ctx.query.get('per_page')) ctx.query.set('per_page', '50');
    const page = paginate(store, ctx, shown, (t) => notificationJson(store, store.repoState(...(t.repo.split('/') as [string, string]))!, t));
    return { ...page, headers: { ...headers, ...page.headers } };
  };

  router.add('GET', '/notifications', (ctx) => {
    requireActor(ctx);
    return list(ctx, store.notifications);
  });

  router.add('GET', '/repos/:owner/:repo/notifications', (ctx) => {
    requireActor(ctx);
    const state = requireRepo(store, ctx);
    return list(
      ctx,
      store.notifications.filter((t) => t.repo === state.repo.fullName),
    );
  });

  const requireThread = (ctx: RequestContext): NotificationThread => {
    const actor = requireActor(ctx);
    const thread = store.notifications.find((t) => t.id === ctx.params.thread_id && t.login === actor.login);
    if (!thread) throw notFound();
    return thread;
  };

  router.add('GET', '/notifications/threads/:thread_id', (ctx) => {
    const thread = requireThread(ctx);
    const [owner, repo] = thread.repo.split('/');
    return { json: notificationJson(store, store.repoState(owner, repo)!, thread) };
  });

  router.add('PATCH', '/notifications/threads/:thread_id', (ctx) => {
    const thread = requireThread(ctx);
    thread.unread = false;
    thread.lastReadAt = store.now();
    return { status: 205 };
  });

  router.add('DELETE', '/notifications/threads/:thread_id', (ctx) => {
    const thread = requireThread(ctx);
    thread.unread = false;
    thread.done = true;
    return { status: 204 };
  });

  router.add('PUT', '/notifications', (ctx) => {
    const actor = requireActor(ctx);
    const now = store.now();
    const upTo = ctx.body?.last_read_at ?? now;
    for (const t of store.notifications) {
      if (t.login === actor.login && t.unread && t.updatedAt <= upTo) {
        t.unread = false;
        t.lastReadAt = now;
      }
    }
    return { status: 205 };
  });
}
