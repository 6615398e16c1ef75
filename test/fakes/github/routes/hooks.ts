/** The repositories a token can see (`GET /user/repos`) and their webhooks (`GET /repos/:owner/:repo/hooks`, admins only). */
import { notFound, paginate, requireActor, requireRepo, type Router } from '../http.js';
import { repoJson } from '../shapes.js';
import type { GitHubStore } from '../store.js';
import type { WebhookSender } from '../webhooks.js';

export function registerHookRoutes(router: Router, store: GitHubStore, webhooks: WebhookSender): void {
  router.add('GET', '/user/repos', (ctx) => {
    const actor = requireActor(ctx);
    const visible = [...store.repos.values()].filter((state) => store.permission(state, actor.login) !== 'none');
    return paginate(store, ctx, visible, (state) => repoJson(store, state, actor.login));
  });

  // GitHub answers 404 to a token that cannot administer the repository.
  router.add('GET', '/repos/:owner/:repo/hooks', (ctx) => {
    const state = requireRepo(store, ctx);
    if (store.permission(state, requireActor(ctx).login) !== 'admin') throw notFound();
    const hook = webhooks.hook();
    return { json: hook ? [hook] : [] };
  });
}
