import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { sendError } from '../core/http/errors.js';
import { MAX_PATH_PARAM_LENGTH, sendPathParamTooLong } from '../core/http/path-params.js';
import { htmlPage } from '../core/http/sign-in-page.js';
import { packageRoot } from '../core/package-root.js';

/** Where `npm run build` puts the console (Vite's output): index.html and hashed files under assets/. */
export function defaultConsoleDir(): string {
  return join(packageRoot(), 'dist', 'console');
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt', '.webmanifest']);
/** Paths the console never serves: they belong to the API and the platforms. */
const NOT_PAGES = /^\/(api|auth|webhooks)(\/|$)/;

interface CachedFile {
  mtimeMs: number;
  body: Buffer;
  gzipped?: Buffer;
}

/**
 * The built console at `/`: a file that exists is served with its type (hashed `assets/` files
 * cached for a year, everything else revalidated), any other path without an extension is a
 * client route and gets index.html. Text is gzipped once per file version and kept in memory
 * (the build is a few hundred kilobytes). Signed-in people only: the authentication hook refuses
 * everyone else before this runs (with a page saying how to sign in).
 */
export function registerConsolePages(app: FastifyInstance, opts: { dir: string }): void {
  const root = resolve(opts.dir);
  const cache = new Map<string, CachedFile>();

  const load = async (file: string): Promise<CachedFile | undefined> => {
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) return undefined;
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === st.mtimeMs) return hit;
    const entry: CachedFile = { mtimeMs: st.mtimeMs, body: await readFile(file) };
    cache.set(file, entry);
    return entry;
  };

  const send = async (reply: FastifyReply, file: string, acceptsGzip: boolean): Promise<FastifyReply | undefined> => {
    const entry = await load(file);
    if (!entry) return undefined;
    const ext = extname(file).toLowerCase();
    const immutable = file.startsWith(join(root, 'assets') + sep);
    reply.type(TYPES[ext] ?? 'application/octet-stream');
    reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    reply.header('x-content-type-options', 'nosniff');
    if (ext === '.html') {
      // The console loads only its own files and talks only to its own server.
      reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
      reply.header('referrer-policy', 'same-origin');
    }
    if (acceptsGzip && COMPRESSIBLE.has(ext) && entry.body.length > 1024) {
      entry.gzipped ??= gzipSync(entry.body, { level: 9 });
      return reply.header('content-encoding', 'gzip').header('vary', 'accept-encoding').send(entry.gzipped);
    }
    return reply.send(entry.body);
  };

  app.get('/*', async (req, reply) => {
    const path = `/${(req.params as { '*': string })['*'] ?? ''}`;
    if (NOT_PAGES.test(path)) {
      // A route's parameter past the router's limit lands here (the wildcard has none): the same 414 as any other method.
      if (path.split('/').some((segment) => segment.length > MAX_PATH_PARAM_LENGTH)) {
        return sendPathParamTooLong(req, reply);
      }
      return sendError(req, reply, 404, 'not_found', `no route GET ${path}`);
    }
    const index = join(root, 'index.html');
    if (!existsSync(index)) {
      // 404, not 503: nothing is wrong with the server, there is just no console to serve.
      return reply
        .code(404)
        .type('text/html; charset=utf-8')
        .send(htmlPage('Console not built', `<h1>The console is not built</h1><p>Run <code>npm run build</code>: it puts the console in ${root}.</p>`));
    }
    const acceptsGzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const file = resolve(root, `.${path}`);
    // Never outside the console's directory, whatever the path spells.
    if (path.includes('\0') || (file !== root && !file.startsWith(root + sep))) return sendError(req, reply, 404, 'not_found', 'no such file');
    if (file !== root && (await send(reply, file, acceptsGzip))) return reply;
    if (extname(path) !== '') return sendError(req, reply, 404, 'not_found', `no file ${path} in the console`);
    return send(reply, index, acceptsGzip);
  });
}
