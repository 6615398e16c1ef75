import { useEffect, useState } from 'preact/hooks';

/** A place in the console: `#/conversations/local%3Aannounce` is `{ view: 'conversations', id: 'local:announce' }`. */
export interface Route {
  view: string;
  id: string | undefined;
}

export const VIEWS = ['team', 'conversations', 'work', 'approvals', 'jobs', 'memory', 'audit', 'settings'] as const;
export type View = (typeof VIEWS)[number];

function parse(hash: string): Route {
  const [view, ...rest] = hash.replace(/^#\/?/, '').split('/');
  const id = rest.length ? decodeURIComponent(rest.join('/')) : undefined;
  return { view: (VIEWS as readonly string[]).includes(view ?? '') ? view! : 'team', id };
}

export function href(view: View, id?: string): string {
  return id === undefined ? `#/${view}` : `#/${view}/${encodeURIComponent(id)}`;
}

/** Hash routing: the server serves one page, and a reload keeps the place. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parse(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
