/**
 * `GET /search/issues`: the qualifiers agents use (repo:, is:, type:, state:, label:, author:,
 * assignee:, mentions:, involves:, review-requested:, reviewed-by:, head:, base:, no:) and plain
 * words matched in title or body.
 */
import { validationFailed, type Router } from '../http.js';
import { issueJson } from '../shapes.js';
import type { GitHubStore, RepoState } from '../store.js';
import type { Issue, Pull } from '../types.js';

type Item = { state: RepoState; item: Issue | Pull };

function tokens(q: string): string[] {
  return [...q.matchAll(/(?:[\w-]+:"[^"]*"|"[^"]*"|\S+)/g)].map((m) => m[0]);
}

function unquote(value: string): string {
  return value.replace(/^"|"$/g, '');
}

function matcher(token: string): ((x: Item) => boolean) | null {
  const negate = token.startsWith('-') && token.includes(':');
  const raw = negate ? token.slice(1) : token;
  const colon = raw.indexOf(':');
  const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
  let test: (x: Item) => boolean;
  if (colon > 0 && !raw.startsWith('"')) {
    const key = raw.slice(0, colon).toLowerCase();
    const value = unquote(raw.slice(colon + 1));
    const isPull = (x: Item): boolean => 'head' in x.item;
    switch (key) {
      case 'repo':
        test = (x) => same(x.state.repo.fullName, value);
        break;
      case 'user':
      case 'org':
        test = (x) => same(x.state.repo.owner, value);
        break;
      case 'is':
      case 'type':
      case 'state':
        test = (x) =>
          value === 'issue'
            ? !isPull(x)
            : value === 'pr' || value === 'pull-request'
              ? isPull(x)
              : value === 'open' || value === 'closed'
                ? x.item.state === value
                : value === 'merged'
                  ? isPull(x) && (x.item as Pull).merged
                  : value === 'unmerged'
                    ? isPull(x) && !(x.item as Pull).merged
                    : value === 'draft'
                      ? isPull(x) && (x.item as Pull).draft
                      : true;
        break;
      case 'label':
        test = (x) => x.item.labels.some((l) => same(l, value));
        break;
      case 'author':
        test = (x) => same(x.item.author, value);
        break;
      case 'assignee':
        test = (x) => x.item.assignees.some((a) => same(a, value));
        break;
      case 'mentions':
        test = (x) =>
          (x.item.body ?? '').toLowerCase().includes(`@${value.toLowerCase()}`) || x.state.comments.some((c) => c.number === x.item.number && c.body.toLowerCase().includes(`@${value.toLowerCase()}`));
        break;
      case 'involves':
        test = (x) =>
          same(x.item.author, value) ||
          x.item.assignees.some((a) => same(a, value)) ||
          (x.item.body ?? '').toLowerCase().includes(`@${value.toLowerCase()}`) ||
          x.state.comments.some((c) => c.number === x.item.number && same(c.author, value));
        break;
      case 'review-requested':
        test = (x) => isPull(x) && (x.item as Pull).requestedReviewers.some((r) => same(r, value));
        break;
      case 'reviewed-by':
        test = (x) => x.state.reviews.some((r) => r.number === x.item.number && same(r.author, value) && r.state !== 'PENDING');
        break;
      case 'head':
        test = (x) => isPull(x) && same((x.item as Pull).head, value);
        break;
      case 'base':
        test = (x) => isPull(x) && same((x.item as Pull).base, value);
        break;
      case 'no':
        test = (x) => (value === 'assignee' ? x.item.assignees.length === 0 : value === 'label' ? x.item.labels.length === 0 : true);
        break;
      case 'in':
      case 'sort':
        return null;
      default:
        throw validationFailed([{ resource: 'Search', field: 'q', code: 'invalid', message: `The qualifier ${key} is not supported by the fake GitHub` }]);
    }
  } else {
    const word = unquote(raw).toLowerCase();
    test = (x) => x.item.title.toLowerCase().includes(word) || (x.item.body ?? '').toLowerCase().includes(word);
  }
  return negate ? (x) => !test(x) : test;
}

export function registerSearchRoutes(router: Router, store: GitHubStore): void {
  router.add('GET', '/search/issues', (ctx) => {
    const q = ctx.query.get('q');
    if (!q) throw validationFailed([{ resource: 'Search', field: 'q', code: 'missing' }]);
    const tests = tokens(q)
      .map((t) => matcher(t))
      .filter((t): t is (x: Item) => boolean => t !== null);
    const all: Item[] = [];
    for (const state of store.repos.values()) {
      if (store.permission(state, ctx.actor?.login) === 'none') continue;
      for (const item of [...state.issues.values(), ...state.pulls.values()]) all.push({ state, item });
    }
    const sort = ctx.query.get('sort') ?? 'updated';
    const dir = ctx.query.get('order') === 'asc' ? 1 : -1;
    const key = (x: Item): string => (sort === 'created' ? x.item.createdAt : x.item.updatedAt);
    const hits = all.filter((x) => tests.every((t) => t(x))).sort((a, b) => (key(a) === key(b) ? (a.item.id - b.item.id) * dir : key(a) < key(b) ? -dir : dir));
    const perPage = Math.min(100, Math.max(1, Number(ctx.query.get('per_page')) || 30));
    const page = Math.max(1, Number(ctx.query.get('page')) || 1);
    const last = Math.max(1, Math.ceil(hits.length / perPage));
    const links: string[] = [];
    const link = (p: number, rel: string): string => {
      const query = new URLSearchParams(ctx.query);
      query.set('page', String(p));
      return `<${store.url}${ctx.path}?${query}>; rel="${rel}"`;
    };
    if (page > 1) links.push(link(page - 1, 'prev'));
    if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
    if (page > 1) links.push(link(1, 'first'));
    const items = hits.slice((page - 1) * perPage, page * perPage).map((x) => ({ ...issueJson(store, x.state, x.item), score: 1 }));
    return { json: { total_count: hits.length, incomplete_results: false, items }, headers: links.length ? { link: links.join(', ') } : undefined };
  });
}
