import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The body of every error answer: `{ "error": { "code", "message", "requestId" } }`.
 * `code` is a stable snake_case word a script can branch on; `message` is for a person;
 * `requestId` finds the matching log lines. Internals (stacks, SQL, upstream bodies) go to
 * the log, never into the body.
 */
export interface ErrorBody {
  error: { code: string; message: string; requestId: string };
}

/** Throw from a route to answer with a given status, code and message. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const CODE_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  421: 'misdirected_request',
  422: 'unprocessable_entity',
  429: 'too_many_requests',
  431: 'request_header_fields_too_large',
  503: 'unavailable',
};

function errorBody(request: FastifyRequest, code: string, message: string): ErrorBody {
  return { error: { code, message, requestId: String(request.id) } };
}

export function sendError(request: FastifyRequest, reply: FastifyReply, statusCode: number, code: string, message: string): FastifyReply {
  return reply
    .code(statusCode)
    .type('application/json; charset=utf-8')
    .send(errorBody(request, code, message));
}

/** Turns any error thrown by a route, a hook or Fastify itself into the JSON error shape. */
export function createErrorHandler(bodyLimitBytes: number) {
  return function handleError(error: FastifyError | HttpError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    if (error instanceof HttpError) {
      if (error.statusCode >= 500) request.log.error({ err: error }, 'request failed');
      return sendError(request, reply, error.statusCode, error.code, error.message);
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) {
      return sendError(request, reply, 400, 'validation_failed', fastifyError.message);
    }
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      request.log.info({ limit: bodyLimitBytes }, 'request body over the limit');
      return sendError(request, reply, 413, 'payload_too_large', `the request body is larger than the limit of ${bodyLimitBytes} bytes`);
    }
    const status = fastifyError.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Fastify's own client errors (bad JSON, wrong content type) carry messages meant for the caller.
      return sendError(request, reply, status, CODE_BY_STATUS[status] ?? 'bad_request', fastifyError.message);
    }
    request.log.error({ err: error }, 'request failed');
    return sendError(request, reply, 500, 'internal_error', `internal server error; the server log has the details under request id ${request.id}`);
  };
}

export function handleNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(request, reply, 404, 'not_found', `no route for ${request.method} ${request.url.split('?')[0]}`);
}
