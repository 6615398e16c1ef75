import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';

/** Names every server answers to, whatever it is bound to. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

/**
 * The names a server answers to: loopback, the address it is bound to, and the operator's
 * `server.allowedHosts`. A `*` entry turns the check off (a proxy that rewrites Host).
 */
export class AllowedHosts {
  private readonly names = new Set<string>(LOOPBACK_NAMES);
  private any = false;

  constructor(extra: readonly string[] = []) {
    for (const name of extra) this.add(name);
  }

  add(name: string): void {
    if (name.trim() === '*') this.any = true;
    else this.names.add(normalise(name));
  }

  /**
   * Whether a Host header names this server. An IP address is always accepted: DNS
   * rebinding needs a name the attacker controls (`evil.example`), and a server bound to
   * all interfaces is reached by whichever of its addresses the client used.
   */
  allows(host: string | undefined): boolean {
    if (this.any) return true;
    if (!host) return false;
    const name = hostName(host);
    if (name === undefined) return false;
    return this.names.has(name) || isIP(name) !== 0 || name.endsWith('.localhost');
  }
}

/**
 * An `onRequest` hook answering 421 to a request whose Host header is not one of the names
 * this server serves: a web page that re-pointed its own DNS name at 127.0.0.1 (DNS
 * rebinding) gets nothing. Webhooks are exempt: platforms call them by whatever public name
 * the operator gave them, and they verify their own signatures.
 */
export function createHostCheck(allowed: AllowedHosts) {
  return async function checkHost(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const route = request.is404 ? undefined : request.routeOptions.url;
    if (route?.startsWith('/webhooks/')) return undefined;
    if (allowed.allows(request.headers.host)) return undefined;
    return sendError(request, reply, 421, 'misdirected_request', 'this server does not answer to that Host name; an operator can add it to server.allowedHosts');
  };
}

/** `Example.COM.:3000` → `example.com`; `[::1]:3000` → `::1`; undefined when malformed. */
function hostName(header: string): string | undefined {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end < 0) return undefined;
    const rest = h.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    return h.slice(1, end);
  }
  const m = /^([^:]+)(?::\d{1,5})?$/.exec(h);
  return m ? normalise(m[1]!) : undefined;
}

function normalise(name: string): string {
  let n = name.trim().toLowerCase();
  if (n.startsWith('[') && n.endsWith(']')) n = n.slice(1, -1);
  return n.replace(/\.+$/, '');
}
