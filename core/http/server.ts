import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { createBearerAuth, isPublicRoute } from './bearer-auth.js';
import { BodyBudget, DEFAULT_UNVERIFIED_BODY_BUDGET_BYTES } from './body-budget.js';
import { createErrorHandler, handleNotFound } from './errors.js';
import { endEventStreams } from './event-stream.js';
import { AllowedHosts, createHostCheck } from './host-check.js';
import { handleRouterError, MAX_PATH_PARAM_LENGTH } from './path-params.js';
import type { SessionVerifier } from './principal.js';
import type { ReadinessReport } from './readiness.js';
import { REQUEST_ID_HEADER, requestIdFor } from './request-id.js';

export interface HttpServerOptions {
  logger: Logger;
  metrics: Metrics;
  /** Largest request body accepted; bigger ones get a 413. */
  bodyLimitBytes: number;
  /**
   * Webhook bodies (read before their signature is checked) held at once, across every route:
   * `server.limits.unverifiedBodyBudgetMb`. Default 64 MB.
   */
  unverifiedBodyBudgetBytes?: number;
  /**
   * Every route that is not public (probes, webhooks, `config: { public: true }`) needs
   * `Authorization: Bearer <token>` or a console session. There is always one: `PANTHEON_CONSOLE_TOKEN`, or the
   * token generated in the data dir.
   */
  consoleToken: string;
  /** Console sessions (web/sessions.ts): with it, a session cookie is a credential too. */
  sessions?: SessionVerifier;
  /** Host names the server answers to besides loopback and its bound address (`server.allowedHosts`). */
  allowedHosts?: readonly string[];
  /** `/healthz` answers 503 until this is true. */
  ready: () => boolean | Promise<boolean>;
  /** Extra fields for a ready `/healthz` answer. */
  healthDetails?: () => Record<string, unknown>;
  /** `/readyz`: the database, Redis, migrations, this replica's connections (core/http/readiness.ts). 503 until started. */
  readiness?: () => Promise<ReadinessReport>;
}

/** A route as registered, and whether it answers without the token. */
export interface RegisteredRoute {
  method: string;
  url: string;
  public: boolean;
}

/** Each server's routes, as Fastify's `onRoute` reports them (for tests and diagnostics). */
const routesByServer = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Every route registered on a server built by `createHttpServer`, in registration order. */
export function routesOf(app: FastifyInstance): RegisteredRoute[] {
  return [...(routesByServer.get(app) ?? [])];
}

/** Each server's Host names; `listen` adds the address it binds to. */
const hostsOf = new WeakMap<FastifyInstance, AllowedHosts>();

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
    // Path parameters: past the limit, our JSON 414 (path-params.ts) instead of Fastify's own answer.
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    frameworkErrors: handleRouterError,
    // The pino Logger type is narrower than FastifyBaseLogger in the instance's generics;
    // callers see the ordinary FastifyInstance that route modules are written against.
  }) as unknown as FastifyInstance;
  if (!opts.consoleToken) throw new Error('the HTTP server needs a console token: every route that is not public requires it');
  // Shared by every route that uses boundedBody(), in whichever scope it is registered.
  app.decorate('unverifiedBodies', new BodyBudget(opts.unverifiedBodyBudgetBytes ?? DEFAULT_UNVERIFIED_BODY_BUDGET_BYTES));
  const hosts = new AllowedHosts(opts.allowedHosts);
  hostsOf.set(app, hosts);
  const routes: RegisteredRoute[] = [];
  routesByServer.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, public: isPublicRoute(route.url, route.config) });
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  // The router has matched by onRequest: both checks decide on the route that would run.
  app.addHook('onRequest', createHostCheck(hosts));
  app.decorateRequest('principal', null);
  app.addHook('onRequest', createBearerAuth(opts.consoleToken, opts.sessions));
  app.setErrorHandler(createErrorHandler(opts.bodyLimitBytes));
  app.setNotFoundHandler(handleNotFound);
  // Open event streams end first: each would otherwise hold the close until its client left.
  app.addHook('preClose', async () => endEventStreams(app.server));

  // Probes and scrapers call these every few seconds: only warnings reach the log.
  app.get('/healthz', { logLevel: 'warn', config: { public: true } }, async (request, reply) => {
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

  // Readiness: take traffic only while what serves it works. Names and ok|failing, never error texts.
  app.get('/readyz', { logLevel: 'warn', config: { public: true } }, async (request, reply) => {
    let started = false;
    try {
      started = await opts.ready();
    } catch (err) {
      request.log.warn({ err }, 'readiness check failed');
    }
    if (!started) return reply.code(503).send({ status: 'starting', checks: {} });
    const report = opts.readiness ? await opts.readiness() : { status: 'ok' as const, checks: {} };
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });

  app.get('/metrics', { logLevel: 'warn', config: { public: true } }, async (_request, reply) => {
    const { registry } = opts.metrics;
    return reply.type(registry.contentType).send(await registry.metrics());
  });

  return app;
}

/**
 * Starts listening, on 127.0.0.1 unless a host is given (`--host` / `server.host`): other
 * machines reach Pantheon only when the operator says so. The bound address joins the Host
 * names the server answers to.
 */
export async function listen(app: FastifyInstance, opts: { host?: string; port: number }): Promise<{ url: string; port: number }> {
  const host = opts.host ?? '127.0.0.1';
  hostsOf.get(app)?.add(host);
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
