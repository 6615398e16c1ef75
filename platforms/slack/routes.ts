import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { boundedBody } from '../../core/http/body-budget.js';
import { sendError } from '../../core/http/index.js';
import type { Logger } from '../../core/log.js';
import type { SlackInbound } from './inbound.js';
import { checkSlackHeaders, verifySlackSignature } from './verify.js';

/** Slack's event and interaction payloads are a few KB; 1 MB leaves room and no more (`server.limits.webhookBodyKb.slack`). */
const SLACK_BODY_LIMIT = 1024 * 1024;

export interface SlackRoutesOptions {
  /** Signing secrets of the persona apps; a request signed with any of them is Slack's. */
  signingSecrets: readonly string[];
  inbound: SlackInbound;
  logger: Logger;
  /** Largest body of either route (default SLACK_BODY_LIMIT). */
  bodyLimitBytes?: number;
}

type Json = Record<string, any>;

/**
 * HTTP mode: `POST /webhooks/slack/events` (Events API) and `POST /webhooks/slack/interactions`
 * (button clicks). The signature covers the exact bytes Slack sent, so these routes live in their
 * own Fastify scope that keeps the body as a string instead of parsing it. A request is verified,
 * handed to the ingress (durable, deduped) and answered; Slack's 3-second budget is never at risk
 * because no agent runs here.
 */
export function registerSlackRoutes(http: FastifyInstance, opts: SlackRoutesOptions): void {
  const limitBytes = opts.bodyLimitBytes ?? SLACK_BODY_LIMIT;
  void http.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: limitBytes }, (_req, body, done) => done(null, body));
    // The headers are checked before the body is read; the body then counts against the shared budget.
    const onRequest = boundedBody({
      limitBytes,
      precheck: (req) => {
        const verdict = checkSlackHeaders(opts.signingSecrets, { timestamp: header(req, 'x-slack-request-timestamp'), signature: header(req, 'x-slack-signature') });
        return verdict.ok ? null : `Slack signature check failed: ${verdict.reason}`;
      },
    });
    const route = { bodyLimit: limitBytes, onRequest };
    scope.post('/webhooks/slack/events', route, (req, reply) => handle(req, reply, opts, 'events'));
    scope.post('/webhooks/slack/interactions', route, (req, reply) => handle(req, reply, opts, 'interactions'));
  });
}

async function handle(req: FastifyRequest, reply: FastifyReply, opts: SlackRoutesOptions, kind: 'events' | 'interactions'): Promise<FastifyReply> {
  const rawBody = typeof req.body === 'string' ? req.body : '';
  const verdict = verifySlackSignature(opts.signingSecrets, {
    timestamp: header(req, 'x-slack-request-timestamp'),
    signature: header(req, 'x-slack-signature'),
    rawBody,
  });
  if (!verdict.ok) {
    req.log.warn({ reason: verdict.reason }, 'slack request refused');
    return sendError(req, reply, 401, 'unauthorized', `Slack signature check failed: ${verdict.reason}`);
  }
  let body: Json;
  try {
    body = kind === 'events' ? JSON.parse(rawBody) : JSON.parse(new URLSearchParams(rawBody).get('payload') ?? '');
  } catch {
    return sendError(req, reply, 400, 'bad_request', `the Slack ${kind} body is not valid JSON`);
  }
  // Slack checks the request URL once, when it is saved in the app's settings.
  if (body.type === 'url_verification') return reply.send({ challenge: body.challenge });
  const retryNum = Number(header(req, 'x-slack-retry-num') ?? 0) || undefined;
  try {
    await opts.inbound.dispatch(body, { num: retryNum, reason: header(req, 'x-slack-retry-reason') });
  } catch (err) {
    // Not taken: an error status makes Slack deliver it again.
    req.log.error({ err: (err as Error).message }, 'slack payload was not taken');
    return sendError(req, reply, 503, 'unavailable', 'the payload could not be taken; Slack will retry');
  }
  return reply.code(200).send('');
}

function header(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
