import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { sendError } from './errors.js';

/**
 * How many bytes of request bodies from callers not yet authenticated may be held in memory at
 * once, across the process. A webhook is verified on its raw body (an HMAC over the bytes), so the
 * body has to be read before anyone knows who sent it: each such read reserves its size here first,
 * and a request that does not fit is refused with 503 before a byte of its body is read.
 */
export class BodyBudget {
  private used = 0;

  constructor(readonly capacityBytes: number) {}

  /** Reserves `bytes`; the returned function gives them back (once). Null when they do not fit. */
  tryReserve(bytes: number): (() => void) | null {
    if (bytes > this.capacityBytes - this.used) return null;
    this.used += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
    };
  }

  get inUseBytes(): number {
    return this.used;
  }
}

/**
 * The budget's default size (`server.limits.unverifiedBodyBudgetMb`): 64 MB holds a couple of
 * GitHub's largest payloads (25 MB) or hundreds of ordinary ones (a few KB), so real deliveries
 * are not refused while a flood of large unsigned bodies cannot grow the process.
 */
export const DEFAULT_UNVERIFIED_BODY_BUDGET_BYTES = 64 * 1024 * 1024;

declare module 'fastify' {
  interface FastifyInstance {
    /** The budget every webhook route of this server shares (createHttpServer sets it; child scopes inherit it). */
    unverifiedBodies?: BodyBudget;
  }
}

/** For routes on a server that has no budget of its own (one not made by createHttpServer). */
const processBudget = new BodyBudget(DEFAULT_UNVERIFIED_BODY_BUDGET_BYTES);

export interface BoundedBodyOptions {
  /** The route's own largest body (the platform's documented maximum). */
  limitBytes: number;
  /** Default: the server's shared budget (`server.limits.unverifiedBodyBudgetMb`). */
  budget?: BodyBudget;
  /**
   * A check on the headers alone, before the body is read: a request that cannot be genuine
   * (no signature header, a wrong shared secret) is refused without reading its body.
   * Answers the reason to refuse with 401, or null to go on.
   */
  precheck?: (request: FastifyRequest) => string | null;
}

/**
 * An `onRequest` hook for a route whose caller is authenticated only by its body: refuses what
 * the headers already condemn (401), what is declared larger than the route's limit (413) and
 * what does not fit in the shared budget (503, `Retry-After`), all before the body is read.
 * The reservation is given back when the answer is finished or the connection closes.
 * A refused body is never read: the connection is closed instead of drained.
 */
export function boundedBody(opts: BoundedBodyOptions): onRequestAsyncHookHandler {
  return async function boundBody(request: FastifyRequest, reply: FastifyReply) {
    const budget = opts.budget ?? request.server.unverifiedBodies ?? processBudget;
    const refusal = opts.precheck?.(request);
    if (refusal) return refuse(request, reply, 401, 'unauthorized', refusal);
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > opts.limitBytes) {
      return refuse(request, reply, 413, 'payload_too_large', `the request body is larger than this route's limit of ${opts.limitBytes} bytes`);
    }
    // A chunked body may be as large as the limit: reserve that much.
    const release = budget.tryReserve(Number.isFinite(declared) && declared >= 0 ? declared : opts.limitBytes);
    if (!release) {
      reply.header('retry-after', '1');
      return refuse(request, reply, 503, 'busy', 'too many request bodies are being read at once; retry shortly');
    }
    // 'close' comes after the answer is finished and after an aborted connection alike.
    reply.raw.once('close', release);
  };
}

function refuse(request: FastifyRequest, reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  // The body stays unread: closing the connection is cheaper than draining megabytes of it.
  reply.header('connection', 'close');
  return sendError(request, reply, status, code, message);
}
