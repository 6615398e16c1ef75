import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { createBearerAuth } from './bearer-auth.js';
import { createErrorHandler, handleNotFound } from './errors.js';
import { REQUEST_ID_HEADER, requestIdFor } from './request-id.js';

export interface HttpServerOptions {
  logger: Logger;
  metrics: Metrics;
  /** Largest request body accepted; bigger ones get a 413. */
  bodyLimitBytes: number;
  /** With a token, `/api/*` needs `Authorization: Bearer <token>` and the server may bind publicly. */
  consoleToken?: string;
  /** `/healthz` answers 503 until this is true. */
  ready: () => boolean | Promise<boolean>;
  /** Extra fields for a ready `/healthz` answer. */
  healthDetails?: () => Record<string, unknown>;
}

/** Whether each server was built with a console token; decides `listen`'s default host. */
const hasConsoleToken = new WeakMap<FastifyInstance, boolean>();

/** Query parameters whose values must not reach a log line. */
const SECRET_QUERY_PARAM = /(token|secret|key|password|passwd|signature|sig|auth|code)/i;

/**
 * The process's HTTP server: health, metrics, the JSON error shape, request ids and the
 * console token. Features add their routes (`/api/...`, `/webhooks/...`) before `listen`.
 */
export function createHttpServer(opts: HttpServerOptions): FastifyInstance {
  const logger = opts.logger.child({ component: 'http' }, { serializers: { req: serializeRequest } });
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: opts.bodyLimitBytes,
    genReqId: requestIdFor,
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    // Stops a slow or stalled client from holding a socket forever.
    requestTimeout: 60_000,
    // The pino Logger type is narrower than FastifyBaseLogger in the instance's generics;
    // callers see the ordinary FastifyInstance that route modules are written against.
  }) as unknown as FastifyInstance;
  hasConsoleToken.set(app, !!opts.consoleToken);

  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  if (opts.consoleToken) app.addHook('onRequest', createBearerAuth(opts.consoleToken));
  app.setErrorHandler(createErrorHandler(opts.bodyLimitBytes));
  app.setNotFoundHandler(handleNotFound);

  // Probes and scrapers call these every few seconds: only warnings reach the log.
  app.get('/healthz', { logLevel: 'warn' }, async (request, reply) => {
    let isReady = false;
    try {
      isReady = await opts.ready();
    } catch (err) {
      request.log.warn({ err }, 'readiness check failed');
    }
    if (!isReady) return reply.code(503).send({ status: 'starting' });
    let details: Record<string, unknown> = {};
    try {
      details = opts.healthDetails?.() ?? {};
    } catch (err) {
      request.log.warn({ err }, 'health details failed');
    }
    return reply.send({ ...details, status: 'ok' });
  });

  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
    const { registry } = opts.metrics;
    return reply.type(registry.contentType).send(await registry.metrics());
  });

  return app;
}

/**
 * Starts listening. Without a console token the default host is 127.0.0.1: an
 * unauthenticated console must not be reachable from other machines.
 */
export async function listen(app: FastifyInstance, opts: { host?: string; port: number }): Promise<{ url: string; port: number }> {
  const host = opts.host ?? (hasConsoleToken.get(app) ? '0.0.0.0' : '127.0.0.1');
  await app.listen({ host, port: opts.port });
  const { port } = app.server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return { url: `http://${shownHost}:${port}`, port };
}

/** What a request log line says about the request: never headers, and no secret query values. */
function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactQuery(request.url),
    remoteAddress: request.ip,
  };
}

export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return eq >= 0 && SECRET_QUERY_PARAM.test(decodeURIComponentSafe(name)) ? `${name}=[REDACTED]` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
