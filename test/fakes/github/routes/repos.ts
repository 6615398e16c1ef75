/** Users, repositories, collaborators' permissions, branches, refs and file contents. */
import { branches, runGit } from '../git-repo.js';
import { notFound, paginate, requireActor, requireRepo, type Router } from '../http.js';
import { repoJson, userJson } from '../shapes.js';
import type { GitHubStore, RepoState } from '../store.js';

/** Blob or tree at `ref:path`, or null. */
async function objectAt(state: RepoState, ref: string, path: string): Promise<{ type: string; sha: string } | null> {
  const spec = `${ref}:${path}`;
  const result = await runGit(state.repo.path, ['rev-parse', '--verify', '--quiet', spec]);
  if (result.code !== 0) return null;
  const sha = result.stdout.trim();
  const type = (await runGit(state.repo.path, ['cat-file', '-t', sha])).stdout.trim();
  return { type, sha };
}

export function registerRepoRoutes(router: Router, store: GitHubStore): void {
  router.add('GET', '/user', (ctx) => {
    const actor = requireActor(ctx);
    return { json: userJson(store, actor.login), headers: { 'x-oauth-scopes': 'repo, notifications, workflow' } };
  });

  router.add('GET', '/users/:login', (ctx) => {
    if (!store.user(ctx.params.login)) throw notFound();
    return { json: userJson(store, ctx.params.login) };
  });

  router.add('GET', '/repos/:owner/:repo', (ctx) => {
    const state = requireRepo(store, ctx);
    return { json: repoJson(store, state, ctx.actor?.login) };
  });

  router.add('GET', '/repos/:owner/:repo/collaborators', (ctx) => {
    const state = requireRepo(store, ctx);
    requireActor(ctx);
    const logins = [state.repo.owner, ...[...state.permissions.entries()].filter(([, p]) => p !== 'none').map(([l]) => store.user(l)!.login)];
    return paginate(store, ctx, logins, (login) => {
      const p = store.permission(state, login);
      return { ...userJson(store, login), role_name: p, permissions: { admin: p === 'admin', maintain: p === 'admin', push: p !== 'read', triage: p !== 'read', pull: true } };
    });
  });

  router.add('GET', '/repos/:owner/:repo/collaborators/:login', (ctx) => {
    const state = requireRepo(store, ctx);
    requireActor(ctx);
    const user = store.user(ctx.params.login);
    if (!user || !store.isCollaborator(state, user.login)) throw notFound();
    return { status: 204 };
  });

  router.add('GET', '/repos/:owner/:repo/collaborators/:login/permission', (ctx) => {
    const state = requireRepo(store, ctx);
    requireActor(ctx);
    const user = store.user(ctx.params.login);
    if (!user) throw notFound();
    const permission = store.permission(state, user.login);
    return { json: { permission, role_name: permission, user: userJson(store, user.login) } };
  });

  router.add('GET', '/repos/:owner/:repo/branches', async (ctx) => {
    const state = requireRepo(store, ctx);
    const list = [...(await branches(state.repo.path)).entries()].sort(([a], [b]) => a.localeCompare(b));
    return paginate(store, ctx, list, ([name, sha]) => ({
      name,
      commit: { sha, url: `${store.url}/repos/${state.repo.fullName}/commits/${sha}` },
      protected: false,
    }));
  });

  router.add('GET', '/repos/:owner/:repo/branches/*branch', async (ctx) => {
    const state = requireRepo(store, ctx);
    const sha = (await branches(state.repo.path)).get(ctx.params.branch);
    if (!sha) throw notFound();
    return {
      json: {
        name: ctx.params.branch,
        commit: { sha, url: `${store.url}/repos/${state.repo.fullName}/commits/${sha}` },
        protected: false,
        _links: { self: `${store.url}/repos/${state.repo.fullName}/branches/${ctx.params.branch}`, html: `${state.repo.htmlUrl}/tree/${ctx.params.branch}` },
      },
    };
  });

  for (const prefix of ['ref', 'refs']) {
    router.add('GET', `/repos/:owner/:repo/git/${prefix}/*ref`, async (ctx) => {
      const state = requireRepo(store, ctx);
      const ref = `refs/${ctx.params.ref}`;
      const result = await runGit(state.repo.path, ['rev-parse', '--verify', '--quiet', ref]);
      if (result.code !== 0) throw notFound();
      const sha = result.stdout.trim();
      return {
        json: {
          ref,
          node_id: `REF_${sha}`,
          url: `${store.url}/repos/${state.repo.fullName}/git/${ref}`,
          object: { type: 'commit', sha, url: `${store.url}/repos/${state.repo.fullName}/git/commits/${sha}` },
        },
      };
    });
  }

  router.add('GET', '/repos/:owner/:repo/contents/*path', async (ctx) => {
    const state = requireRepo(store, ctx);
    const ref = ctx.query.get('ref') ?? state.repo.defaultBranch;
    const path = ctx.params.path.replace(/^\/+|\/+$/g, '');
    const object = await objectAt(state, ref, path);
    if (!object) throw notFound();
    const api = (p: string): string => `${store.url}/repos/${state.repo.fullName}/contents/${p}?ref=${encodeURIComponent(ref)}`;
    if (object.type === 'tree') {
      const out = (await runGit(state.repo.path, ['ls-tree', '-l', '-z', `${ref}:${path}`])).stdout;
      const entries = out
        .split('\0')
        .filter(Boolean)
        .map((line) => {
          const [meta, name] = line.split('\t');
          const [, type, sha, size] = meta.split(/\s+/);
          const full = path ? `${path}/${name}` : name;
          return { type: type === 'tree' ? 'dir' : 'file', name, path: full, sha, size: Number(size) || 0, url: api(full) };
        });
      return { json: entries };
    }
    const content = (await runGit(state.repo.path, ['cat-file', 'blob', object.sha])).stdout;
    if (String(ctx.headers.accept ?? '').includes('raw')) return { text: content, contentType: 'application/vnd.github.raw; charset=utf-8' };
    const base64 = Buffer.from(content)
      .toString('base64')
      .replace(/(.{60})/g, '$1\n');
    return {
      json: {
        type: 'file',
        encoding: 'base64',
        size: Buffer.byteLength(content),
        name: path.split('/').pop(),
        path,
        content: base64,
        sha: object.sha,
        url: api(path),
        html_url: `${state.repo.htmlUrl}/blob/${ref}/${path}`,
        download_url: `${state.repo.htmlUrl}/raw/${ref}/${path}`,
      },
    };
  });
}
