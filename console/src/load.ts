import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
  /** Replaces the data in place (after a live event), without a round trip. */
  set: (update: (old: T | undefined) => T | undefined) => void;
}

/** Loads `fetcher()` when `key` changes; `reload()` loads again. */
export function useLoad<T>(key: string, fetcher: () => Promise<T>): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  // The key names what is fetched: `fetcher` is a new closure on every render.
  useEffect(() => {
    let current = true;
    setLoading(true);
    fetcher().then(
      (value) => {
        if (!current) return;
        setData(value);
        setError(undefined);
        setLoading(false);
      },
      (err: unknown) => {
        if (!current) return;
        setError(err instanceof ApiError || err instanceof Error ? err.message : String(err));
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [key, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data, error, loading, reload, set: setData as Loaded<T>['set'] };
}

/** Calls `tick` every `ms` while the page is visible (for what has no event stream). */
export function usePoll(tick: () => void, ms: number): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') latest.current();
    }, ms);
    return () => clearInterval(timer);
  }, [ms]);
}
