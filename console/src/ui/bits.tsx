import type { ComponentChildren } from 'preact';

/** A short, local-time rendering of an ISO time, with the full time on hover. */
export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <span class="muted">—</span>;
  const d = new Date(at);
  const today = new Date().toDateString() === d.toDateString();
  const text = today
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  return (
    <time dateTime={at} title={d.toLocaleString()}>
      {text}
    </time>
  );
}

export function Badge({ tone, children }: { tone?: 'ok' | 'warn' | 'bad' | 'info' | 'muted'; children: ComponentChildren }) {
  return <span class={`badge ${tone ?? 'muted'}`}>{children}</span>;
}

/** Shown where a load failed: what the server said, and a way to try again. */
export function Failure({ error, retry }: { error: string; retry?: () => void }) {
  return (
    <div class="failure" role="alert">
      <span>{error}</span>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Loading() {
  return (
    <p class="muted" aria-live="polite">
      Loading…
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="muted empty">{children}</p>;
}

/** Pretty JSON for arguments and results; plain text stays plain. */
export function Json({ value, tall = false }: { value: unknown; tall?: boolean }) {
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return <pre class={tall ? 'json tall' : 'json'}>{text}</pre>;
}

export function formatTokens(n: number): string {
  return n >= 1_000_000 ? `${(n / 1_000_000).toFixed(1)}M` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n);
}

export function formatDollars(n: number): string {
  return `$${n < 10 ? n.toFixed(3) : n.toFixed(2)}`;
}
