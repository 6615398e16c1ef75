import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a request's timestamp may be from now: Slack's guidance, and what stops replays. */
const SLACK_SIGNATURE_WINDOW_SECONDS = 5 * 60;

export interface SlackSignatureInput {
  /** `X-Slack-Request-Timestamp` */
  timestamp: string | undefined;
  /** `X-Slack-Signature`, `v0=<hex>` */
  signature: string | undefined;
  /** The request body exactly as received: the signature covers the bytes, not the parsed JSON. */
  rawBody: string;
  /** Seconds since the epoch; tests pass their own. */
  now?: number;
}

export type SlackSignatureResult = { ok: true } | { ok: false; reason: string };

/**
 * Slack's request signing, version 0: `v0=` + HMAC-SHA256(secret, `v0:{timestamp}:{body}`), and a
 * timestamp within five minutes. Each Slack app has its own signing secret; any of `secrets` may match.
 */
export function verifySlackSignature(secrets: readonly string[], input: SlackSignatureInput): SlackSignatureResult {
  const headers = checkSlackHeaders(secrets, input);
  if (!headers.ok) return headers;
  const timestamp = input.timestamp!;
  const signature = input.signature!;
  const { rawBody } = input;
  const given = Buffer.from(signature, 'utf8');
  for (const secret of secrets) {
    const expected = Buffer.from('v0=' + createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex'), 'utf8');
    if (expected.length === given.length && timingSafeEqual(expected, given)) return { ok: true };
  }
  return { ok: false, reason: 'signature does not match' };
}

/**
 * Everything about a request that can be checked before its body is read: a secret to check with,
 * both headers, a fresh timestamp and a well-formed signature. A request failing here is refused
 * without reading its body.
 */
export function checkSlackHeaders(secrets: readonly string[], input: Omit<SlackSignatureInput, 'rawBody'>): SlackSignatureResult {
  if (!secrets.length) return { ok: false, reason: 'no signing secret is configured' };
  const { timestamp, signature } = input;
  if (!timestamp || !signature) return { ok: false, reason: 'missing X-Slack-Request-Timestamp or X-Slack-Signature' };
  if (!/^\d+$/.test(timestamp)) return { ok: false, reason: 'malformed timestamp' };
  const now = input.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > SLACK_SIGNATURE_WINDOW_SECONDS) return { ok: false, reason: 'timestamp outside the 5-minute window' };
  if (!/^v0=[0-9a-f]{64}$/.test(signature)) return { ok: false, reason: 'malformed signature' };
  return { ok: true };
}
