/** One readiness check: true when fine; false or a throw (the reason stays in the log) when not. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

export interface ReadinessReport {
  status: 'ok' | 'failing';
  /** Each check by name; never the error text (it could name a URL or a host). */
  checks: Record<string, 'ok' | 'failing'>;
}

/**
 * `/readyz`'s answer from named checks, run together with a time limit each and cached for
 * `cacheMs`, so a probe every second costs a query or two at most.
 */
export function readiness(
  checks: Record<string, ReadinessCheck>,
  opts: { cacheMs?: number; timeoutMs?: number; onFailure?: (name: string, err: unknown) => void } = {},
): () => Promise<ReadinessReport> {
  /** `at` is when the report was made; a report still being made is shared too. */
  let cached: { at: number; report: Promise<ReadinessReport> } | undefined;
  const run = async (): Promise<ReadinessReport> => {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`${name} check timed out`)), opts.timeoutMs ?? 2000);
          });
          const ok = await Promise.race([Promise.resolve().then(check), timeout]);
          if (!ok) opts.onFailure?.(name, undefined);
          return [name, ok ? 'ok' : 'failing'] as const;
        } catch (err) {
          opts.onFailure?.(name, err);
          return [name, 'failing'] as const;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const result = Object.fromEntries(entries) as Record<string, 'ok' | 'failing'>;
    return { status: entries.every(([, v]) => v === 'ok') ? 'ok' : 'failing', checks: result };
  };
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at >= (opts.cacheMs ?? 1000)) {
      const entry = { at: Number.POSITIVE_INFINITY, report: run() };
      void entry.report.then(() => {
        entry.at = Date.now();
      });
      cached = entry;
    }
    return cached.report;
  };
}
