import type { FastifyInstance } from 'fastify';
import { verify } from '@octokit/webhooks-methods';
import { sendError } from '../../core/http/errors.js';
import type { GitHubDeliveries } from './deliveries.js';

/** GitHub sends payloads of up to 25 MB; the server's general body limit is much smaller. */
const WEBHOOK_BODY_LIMIT = 25 * 1024 * 1024;

/**
 * True when `signature` (`X-Hub-Signature-256`, `sha256=<hex>`) is the HMAC of `rawBody` under
 * `secret`. The raw bytes are what GitHub signed: re-serialised JSON would not match.
 */
export async function verifyGitHubSignature(secret: string, rawBody: Buffer | string, signature: string | undefined): Promise<boolean> {
  if (!secret || !signature || !rawBody.length) return false;
  try {
    return await verify(secret, typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'), signature);
  } catch {
    return false; // a malformed header is simply not a valid signature
  }
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
 */
export function registerGitHubWebhook(http: FastifyInstance, opts: { secret: string; deliveries: GitHubDeliveries }): void {
  void http.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) => done(null, body));

    scope.post('/webhooks/github', { bodyLimit: WEBHOOK_BODY_LIMIT }, async (request, reply) => {
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
