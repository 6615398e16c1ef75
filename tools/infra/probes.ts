import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { ProbeRefusedError, ProbeTargetGuard, type VettedTarget } from './target-guard.js';

/** What an HTTP probe saw. `ok`: answered with the expected status (any 2xx/3xx by default). */
export interface HttpProbeResult {
  url: string;
  ok: boolean;
  status?: number;
  latencyMs: number;
  error?: string;
}

export interface ProbeOptions {
  timeoutMs?: number;
  /** Which targets may be reached; without one, nothing on Pantheon's host or link-local is. */
  guard?: ProbeTargetGuard;
}

/**
 * The status and latency (time to response headers) of one GET of `url`, redirects not followed.
 * A target the guard refuses throws {@link ProbeRefusedError} before anything is sent.
 */
export async function httpProbe(url: string, opts: ProbeOptions & { expectStatus?: number } = {}): Promise<HttpProbeResult> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`http_probe takes http(s) URLs, not ${parsed.protocol}`);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const port = Number(parsed.port) || (parsed.protocol === 'https:' ? 443 : 80);
  const started = performance.now();
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProbeTimeout(timeoutMs)), timeoutMs);
  });
  try {
    const target = await Promise.race([(opts.guard ?? new ProbeTargetGuard()).vet(parsed.hostname, port), timeout]);
    const status = await Promise.race([statusOf(parsed, target, abort.signal), timeout]);
    const ok = opts.expectStatus ? status === opts.expectStatus : status < 400;
    return { url, ok, status, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    if (err instanceof ProbeRefusedError) throw err;
    const e = err as Error & { code?: string };
    const why = e instanceof ProbeTimeout ? e.message : (e.code ?? e.message);
    return { url, ok: false, latencyMs: Math.round(performance.now() - started), error: why };
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

class ProbeTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

/** One GET to the vetted address, presenting the URL's host; settles with the status line. */
function statusOf(url: URL, target: VettedTarget, signal: AbortSignal): Promise<number> {
  const send = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send(
      {
        host: target.address,
        family: target.family,
        port: target.port,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: { host: url.host, accept: '*/*', 'user-agent': 'pantheon-http-probe' },
        servername: isIP(target.name) ? undefined : target.name,
        agent: false,
        signal,
      },
      (res) => {
        resolve(res.statusCode ?? 0);
        res.destroy();
      },
    );
    req.on('error', reject);
    req.end();
  });
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
function tlsTarget(target: string): { host: string; port: number } {
  if (/^https?:\/\//i.test(target)) {
    const u = new URL(target);
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) || 443 };
  }
  if (isIP(target.trim()) === 6) return { host: target.trim(), port: 443 };
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(target.trim());
  if (!m) throw new Error(`not a host or URL: ${target}`);
  return { host: m[1]!, port: Number(m[2]) || 443 };
}

/**
 * Connects to the vetted address, reads the peer certificate, and hangs up (no request is sent).
 * A target the guard refuses throws {@link ProbeRefusedError} before connecting.
 */
export async function tlsExpiry(target: string, opts: ProbeOptions & { servername?: string } = {}): Promise<TlsExpiryResult> {
  const { host, port } = tlsTarget(target);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  const vetted = await (opts.guard ?? new ProbeTargetGuard()).vet(host, port);
  return new Promise((resolve, reject) => {
    const servername = opts.servername ?? (isIP(vetted.name) ? undefined : vetted.name);
    const socket = tls.connect({ host: vetted.address, port, servername, rejectUnauthorized: false });
    const timer = setTimeout(
      () => {
        socket.destroy();
        reject(new Error(`no TLS handshake with ${host}:${port} within ${timeoutMs} ms`));
      },
      Math.max(0, deadline - Date.now()),
    );
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
  return r.error ? `${r.url}: DOWN — ${r.error} (after ${r.latencyMs} ms)` : `${r.url}: ${r.ok ? 'up' : 'DOWN'} — HTTP ${r.status} in ${r.latencyMs} ms`;
}

export function describeTls(r: TlsExpiryResult, warnDays = 14): string {
  const when = r.validTo.toISOString().slice(0, 10);
  const state = r.daysLeft < 0 ? `EXPIRED ${-r.daysLeft} days ago` : `expires in ${r.daysLeft} days`;
  const flag = r.daysLeft < warnDays ? ' ⚠' : '';
  return `${r.target}: certificate${r.subject ? ` for ${r.subject}` : ''} ${state} (${when})${flag}${r.issuer ? `, issued by ${r.issuer}` : ''}${r.trusted ? '' : `; not trusted: ${r.trustError ?? 'unknown reason'}`}`;
}
