import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';
import { REQUEST_ID_HEADER } from './request-id.js';

/**
 * The longest conversation id (a local chat conversation name), in characters. It is the one
 * number behind the route's check, `isConversationName` (and so every thread id the store and
 * the outbox accept) and the error messages, and it is Fastify's `maxParamLength`: no other
 * path parameter (job, work item, memory ids) comes near it.
 */
export const MAX_CONVERSATION_ID_LENGTH = 128;

/** Fastify's `maxParamLength`: a longer path parameter never reaches a route. */
export const MAX_PATH_PARAM_LENGTH = MAX_CONVERSATION_ID_LENGTH;

/**
 * Fastify's `frameworkErrors`: what the router refuses before any route or hook runs (a path
 * parameter over the limit, a URL it cannot decode) is answered in our JSON error format.
 */
export function handleRouterError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header(REQUEST_ID_HEADER, request.id);
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    sendPathParamTooLong(request, reply);
    return;
  }
  if (error.code === 'FST_ERR_BAD_URL') {
    sendError(request, reply, 400, 'bad_request', 'the URL path is not valid (a malformed percent-encoding)');
    return;
  }
  request.log.error({ err: error }, 'the router failed');
  sendError(request, reply, 500, 'internal_error', `internal server error; the server log has the details under request id ${request.id}`);
}

/** Our JSON 414 for a path parameter past the limit (the router's refusal, or a wildcard route that sees one). */
export function sendPathParamTooLong(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(
    request,
    reply,
    414,
    'uri_too_long',
    `a path parameter is longer than ${MAX_PATH_PARAM_LENGTH} characters: conversation ids and other ids are at most ${MAX_CONVERSATION_ID_LENGTH}`,
  );
}
