import tls from 'node:tls';

/** What an HTTP probe saw. `ok`: answered with the expected status (any 2xx/3xx by default). */
export interface HttpProbeResult {
  url: string;
  ok: boolean;
  status?: number;
  latencyMs: number;
  error?: string;
}

/** The status and latency (time to response headers) of one request to `url`. */
export async function httpProbe(url: string, opts: { timeoutMs?: number; expectStatus?: number } = {}): Promise<HttpProbeResult> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`http_probe takes http(s) URLs, not ${parsed.protocol}`);
  const started = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000), redirect: 'manual' });
    const latencyMs = Math.round(performance.now() - started);
    await res.body?.cancel().catch(() => {});
    const ok = opts.expectStatus ? res.status === opts.expectStatus : res.status < 400;
    return { url, ok, status: res.status, latencyMs };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${opts.timeoutMs ?? 10_000} ms` : e.cause?.code ?? e.cause?.message ?? e.message;
    return { url, ok: false, latencyMs: Math.round(performance.now() - started), error: why };
  }
}

/** A server's certificate and how long until it expires. */
export interface TlsExpiryResult {
  target: string;
  validTo: Date;
  daysLeft: number;
  subject?: string;
  issuer?: string;
  /** Whether the chain verifies against the system's CAs (an expired or self-signed one does not). */
  trusted: boolean;
  trustError?: string;
}

/** `example.com`, `example.com:8443` or `https://example.com/...` → host and port. */
export function tlsTarget(target: string): { host: string; port: number } {
  if (/^https?:\/\//i.test(target)) {
    const u = new URL(target);
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) || 443 };
  }
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(target.trim());
  if (!m) throw new Error(`not a host or URL: ${target}`);
  return { host: m[1]!, port: Number(m[2]) || 443 };
}

/** Connects, reads the peer certificate, and hangs up (no request is sent). */
export function tlsExpiry(target: string, opts: { timeoutMs?: number; servername?: string } = {}): Promise<TlsExpiryResult> {
  const { host, port } = tlsTarget(target);
  return new Promise((resolve, reject) => {
    const servername = opts.servername ?? (/^[\d.:]+$/.test(host) ? undefined : host);
    const socket = tls.connect({ host, port, servername, rejectUnauthorized: false });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TLS handshake with ${host}:${port} within ${opts.timeoutMs ?? 10_000} ms`));
    }, opts.timeoutMs ?? 10_000);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate();
      socket.end();
      if (!cert?.valid_to) return reject(new Error(`${host}:${port} presented no certificate`));
      const validTo = new Date(cert.valid_to);
      const name = (x: unknown) => (x && typeof x === 'object' ? String((x as Record<string, unknown>).CN ?? (x as Record<string, unknown>).O ?? '') || undefined : undefined);
      resolve({
        target: `${host}:${port}`,
        validTo,
        daysLeft: Math.floor((validTo.getTime() - Date.now()) / 86_400_000),
        subject: name(cert.subject),
        issuer: name(cert.issuer),
        trusted: socket.authorized,
        trustError: socket.authorizationError ? String(socket.authorizationError) : undefined,
      });
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`TLS connection to ${host}:${port} failed: ${err.message}`));
    });
  });
}

export function describeHttpProbe(r: HttpProbeResult): string {
  return r.error
    ? `${r.url}: DOWN — ${r.error} (after ${r.latencyMs} ms)`
    : `${r.url}: ${r.ok ? 'up' : 'DOWN'} — HTTP ${r.status} in ${r.latencyMs} ms`;
}

export function describeTls(r: TlsExpiryResult, warnDays = 14): string {
  const when = r.validTo.toISOString().slice(0, 10);
  const state = r.daysLeft < 0 ? `EXPIRED ${-r.daysLeft} days ago` : `expires in ${r.daysLeft} days`;
  const flag = r.daysLeft < warnDays ? ' ⚠' : '';
  return `${r.target}: certificate${r.subject ? ` for ${r.subject}` : ''} ${state} (${when})${flag}${r.issuer ? `, issued by ${r.issuer}` : ''}${r.trusted ? '' : `; not trusted: ${r.trustError ?? 'unknown reason'}`}`;
}
