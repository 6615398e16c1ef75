import { useEffect, useRef, useState } from 'preact/hooks';

export type LiveState = 'connecting' | 'live' | 'reconnecting';

/**
 * Follows a server-sent-event stream while the component is shown. EventSource sends the session
 * cookie and reconnects by itself; `handlers` maps event names (`message` for unnamed events) to
 * callbacks that receive the parsed JSON data; `onOpen` runs on each (re)connection.
 */
export function useEventStream(path: string | null, handlers: Record<string, (data: unknown) => void>, onOpen?: () => void): LiveState {
  const [state, setState] = useState<LiveState>('connecting');
  const latest = useRef(handlers);
  latest.current = handlers;
  const opened = useRef(onOpen);
  opened.current = onOpen;
  const names = Object.keys(handlers).sort().join(',');
  useEffect(() => {
    if (!path) return;
    const source = new EventSource(path, { withCredentials: true });
    setState('connecting');
    // The stream starts with what happens after it opened: whoever shows it loads the rest again.
    source.onopen = () => {
      setState('live');
      opened.current?.();
    };
    source.onerror = () => setState('reconnecting');
    for (const name of names.split(',')) {
      if (!name) continue;
      source.addEventListener(name, (event) => {
        const data = (event as MessageEvent<string>).data;
        let parsed: unknown = data;
        try {
          parsed = JSON.parse(data);
        } catch {
          /* a plain-text event */
        }
        latest.current[name]?.(parsed);
      });
    }
    return () => source.close();
  }, [path, names]);
  return state;
}
