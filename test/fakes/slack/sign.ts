import { createHmac } from 'node:crypto';

/**
 * Slack's request signing (v0), as Slack does it: `v0=` + HMAC-SHA256 of `v0:<timestamp>:<raw body>`
 * with the app's signing secret. Tests sign real requests with it, including stale ones.
 */
export function signSlackRequest(signingSecret: string, rawBody: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const signature = 'v0=' + createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex');
  return { 'x-slack-signature': signature, 'x-slack-request-timestamp': String(timestamp) };
}

export interface SignedPostOptions {
  signingSecret: string;
  /** Seconds since the epoch; an old one tests the 5-minute window. */
  timestamp?: number;
  /** Sets `X-Slack-Retry-Num` (and a retry reason), as Slack does when it redelivers. */
  retryNum?: number;
  /** Replaces the computed signature (a forged request). */
  signature?: string;
}

/** POSTs an Events API body (JSON) the way Slack does in HTTP mode. */
export function postSignedEvent(url: string, body: unknown, opts: SignedPostOptions): Promise<Response> {
  const raw = JSON.stringify(body);
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headersFor(raw, opts) }, body: raw });
}

/** POSTs an interactivity payload (form-encoded `payload=<json>`) the way Slack does in HTTP mode. */
export function postSignedInteraction(url: string, payload: unknown, opts: SignedPostOptions): Promise<Response> {
  const raw = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headersFor(raw, opts) }, body: raw });
}

function headersFor(raw: string, opts: SignedPostOptions): Record<string, string> {
  const headers = signSlackRequest(opts.signingSecret, raw, opts.timestamp);
  if (opts.signature) headers['x-slack-signature'] = opts.signature;
  if (opts.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(opts.retryNum);
    headers['x-slack-retry-reason'] = 'http_timeout';
  }
  return headers;
}
