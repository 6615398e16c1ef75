import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { boundedBody } from '../../core/http/body-budget.js';
import { sendError } from '../../core/http/errors.js';
import type { GitHubDeliveries } from './deliveries.js';

/** GitHub caps webhook payloads at 25 MB (larger ones are not delivered); the server's general body limit is much smaller. */
export const GITHUB_WEBHOOK_BODY_LIMIT = 25 * 1024 * 1024;

/**
 * True when `signature` (`X-Hub-Signature-256`, `sha256=<hex>`) is the HMAC of `rawBody` under
 * `secret`. The raw bytes are what GitHub signed: re-serialised JSON would not match. The HMAC
 * runs over the buffer as it is (no copy into a string).
 */
export async function verifyGitHubSignature(secret: string, rawBody: Buffer | string, signature: string | undefined): Promise<boolean> {
  if (!secret || !signature || !rawBody.length) return false;
  const match = /^sha256=([0-9a-f]{64})$/i.exec(signature);
  if (!match) return false; // a malformed header is simply not a valid signature
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(match[1]!, 'hex'));
}

function parsePayload(raw: string, contentType: string | undefined): unknown {
  // A webhook may be configured as form-encoded: the JSON is the `payload` field.
  if (contentType?.startsWith('application/x-www-form-urlencoded')) return JSON.parse(new URLSearchParams(raw).get('payload') ?? '');
  return JSON.parse(raw);
}

const header = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/**
 * `POST /webhooks/github`: verify the signature on the raw body (401 otherwise, nothing stored),
 * store the delivery under its `X-GitHub-Delivery` id (a redelivery is acknowledged with 200 and
 * not processed again), enqueue it and answer 202. No GitHub API call happens before the answer.
 * Registered in its own encapsulated scope, whose body parser keeps the raw bytes.
 * Before the body is read: no signature header is a 401, a declared size over GitHub's cap a 413,
 * and the body must fit in the process's budget for unauthenticated bodies (503 otherwise).
 */
export function registerGitHubWebhook(http: FastifyInstance, opts: { secret: string; deliveries: GitHubDeliveries; bodyLimitBytes?: number }): void {
  const limitBytes = opts.bodyLimitBytes ?? GITHUB_WEBHOOK_BODY_LIMIT;
  void http.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limitBytes }, (_req, body, done) => done(null, body));

    const onRequest = boundedBody({
      limitBytes,
      precheck: (request) => (header(request.headers['x-hub-signature-256']) ? null : 'X-Hub-Signature-256 is missing; GitHub signs every delivery made with github.webhookSecret'),
    });
    scope.post('/webhooks/github', { bodyLimit: limitBytes, onRequest }, async (request, reply) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const signature = header(request.headers['x-hub-signature-256']);
      if (!(await verifyGitHubSignature(opts.secret, raw, signature))) {
        request.log.warn({ delivery: header(request.headers['x-github-delivery']) }, 'GitHub webhook with a missing or wrong signature refused');
        return sendError(request, reply, 401, 'unauthorized', 'X-Hub-Signature-256 is missing or does not match github.webhookSecret');
      }
      const event = header(request.headers['x-github-event']);
      const deliveryId = header(request.headers['x-github-delivery']);
      if (!event || !deliveryId) return sendError(request, reply, 400, 'bad_request', 'X-GitHub-Event and X-GitHub-Delivery headers are required');
      let payload: { action?: string };
      try {
        payload = parsePayload(raw.toString('utf8'), header(request.headers['content-type'])) as { action?: string };
      } catch {
        return sendError(request, reply, 400, 'bad_request', 'the webhook body is not JSON');
      }
      if (event === 'ping') return reply.code(200).send({ ok: true });
      const accepted = await opts.deliveries.accept({ id: deliveryId, event, action: payload?.action, payload });
      return reply.code(accepted ? 202 : 200).send(accepted ? { accepted: true, delivery: deliveryId } : { duplicate: true, delivery: deliveryId });
    });
  });
}
