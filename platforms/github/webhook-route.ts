import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { boundedBody } from '../../core/http/body-budget.js';
import { sendError } from '../../core/http/errors.js';
import type { GitHubDeliveries } from './deliveries.js';
import { readSignedBody } from './signed-body.js';

export { verifyGitHubSignature } from './signed-body.js';

/** GitHub caps webhook payloads at 25 MB (larger ones are not delivered); the server's general body limit is much smaller (`server.limits.webhookBodyKb.github`). */
const GITHUB_WEBHOOK_BODY_LIMIT = 25 * 1024 * 1024;

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
 * Registered in its own encapsulated scope, whose body parser hands over the raw stream: it is read
 * through the HMAC, a large body spooled to a temporary file until the signature matched.
 * Before the body is read: no signature header is a 401, a declared size over GitHub's cap a 413,
 * and the body must fit in the process's budget for unauthenticated bodies (503 otherwise).
 */
export function registerGitHubWebhook(http: FastifyInstance, opts: { secret: string; deliveries: GitHubDeliveries; bodyLimitBytes?: number }): void {
  const limitBytes = opts.bodyLimitBytes ?? GITHUB_WEBHOOK_BODY_LIMIT;
  void http.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // The body stays a stream: the handler reads it through the HMAC (see signed-body.ts).
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

    const onRequest = boundedBody({
      limitBytes,
      precheck: (request) => (header(request.headers['x-hub-signature-256']) ? null : 'X-Hub-Signature-256 is missing; GitHub signs every delivery made with github.webhookSecret'),
    });
    scope.post('/webhooks/github', { onRequest }, async (request, reply) => {
      const signature = header(request.headers['x-hub-signature-256'])!;
      const body = request.body instanceof Readable ? request.body : Readable.from([]);
      const read = await readSignedBody(body, { secret: opts.secret, signature, limitBytes }).catch(() => null);
      if (!read) return sendError(request, reply, 400, 'bad_request', 'the request body could not be read'); // the sender went away mid-body
      if (!read.ok && read.reason === 'too_large') {
        reply.header('connection', 'close');
        return sendError(request, reply, 413, 'payload_too_large', `the request body is larger than this route's limit of ${limitBytes} bytes`);
      }
      if (!read.ok) {
        request.log.warn({ delivery: header(request.headers['x-github-delivery']) }, 'GitHub webhook with a missing or wrong signature refused');
        return sendError(request, reply, 401, 'unauthorized', 'X-Hub-Signature-256 is missing or does not match github.webhookSecret');
      }
      const raw = read.body;
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
