import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { sendError } from '../core/http/errors.js';
import { MemoryImportError, MemoryUnavailableError } from './errors.js';
import { ImportTooLargeError, spoolBody, streamLines } from './import-lines.js';
import type { MemoryStore } from './store.js';
import { EmbedderMismatchError, MEMORY_KINDS, type MemoryKind, type MemoryScope } from './types.js';

const MAX_MEMORY_LIMIT = 1000;
/** An import is a whole memory dump: far larger than an ordinary API body. It is streamed, never held whole. */
const IMPORT_BODY_LIMIT = 512 * 1024 * 1024;
/** One memory line: generous for a long note, far below what would strain the process. */
const IMPORT_LINE_LIMIT = 4 * 1024 * 1024;
const NDJSON = 'application/x-ndjson';

const scopeParam = z
  .string()
  .trim()
  .refine((s) => s === 'team' || /^(persona|conversation|repo):.+/.test(s), {
    message: 'a scope is team, persona:<id>, conversation:<thread> or repo:<owner>/<repo>',
  });

/** `GET /api/memory` query: `q` searches (hybrid recall); without it the memories are listed, newest first. */
const MemoryQueryString = z.object({
  q: z.string().trim().min(1).max(2000).optional(),
  scope: z.union([scopeParam, z.array(scopeParam)]).optional(),
  kind: z.union([z.enum(MEMORY_KINDS), z.array(z.enum(MEMORY_KINDS))]).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_MEMORY_LIMIT).optional(),
  offset: z.coerce.number().int().min(0).optional(),
  archived: z.enum(['1', 'true', '0', 'false']).optional(),
});

const list = <T>(v: T | T[] | undefined): T[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

/**
 * The memory API, for the console and `pantheon memory`. Humans behind the console token see
 * every scope (they administer the memory; the scope rules bind personas):
 * - `GET /api/memory?q=&scope=&kind=&limit=` → `{ hits: [{ memory, score }] }` with `q`, else
 *   `{ memories }` (newest first; `offset`, `archived=1`);
 * - `GET /api/memory/stats` → the store's status (embedder, mismatch, counts);
 * - `GET /api/memory/:id` → `{ memory }`; `DELETE /api/memory/:id` → `{ deleted: true }`;
 * - `POST /api/memory/reembed` → `{ reembedded }`;
 * - `GET /api/memory/export` → JSONL; `POST /api/memory/import` (application/x-ndjson) → `{ imported }`.
 * An embedder mismatch answers 409 `embedder_mismatch`; memory without pgvector 503 `memory_unavailable`.
 */
export function registerMemoryRoutes(app: FastifyInstance, opts: { store: MemoryStore; importLimitBytes?: number }): void {
  const { store } = opts;
  const importLimit = opts.importLimitBytes ?? IMPORT_BODY_LIMIT;
  if (!app.hasContentTypeParser(NDJSON)) {
    // The body stays a stream: the import reads it a line at a time.
    app.addContentTypeParser(NDJSON, (_req, payload, done) => done(null, payload));
  }

  app.get('/api/memory', async (req, reply) => {
    const parsed = MemoryQueryString.safeParse(req.query ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return sendError(req, reply, 400, 'bad_request', `${issue.path.join('.') || 'query'}: ${issue.message}`);
    }
    const q = parsed.data;
    const scopes = list(q.scope) as MemoryScope[] | undefined;
    const kinds = list(q.kind) as MemoryKind[] | undefined;
    const includeArchived = q.archived === '1' || q.archived === 'true';
    return guarded(req, reply, async () => {
      if (q.q) {
        const hits = await store.recall({ text: q.q, scopes: scopes ?? (await allScopes(store)), kinds, limit: q.limit ?? 20, includeArchived });
        return { hits };
      }
      return { memories: await store.list({ scopes, kinds, includeArchived, limit: q.limit ?? 100, offset: q.offset }) };
    });
  });

  app.get('/api/memory/stats', async (req, reply) => guarded(req, reply, () => store.status()));

  app.get('/api/memory/export', async (req, reply) =>
    guarded(req, reply, async () => {
      const lines: string[] = [];
      await store.exportJsonl((line: string) => {
        lines.push(line.endsWith('\n') ? line : `${line}\n`);
      });
      return reply.type(`${NDJSON}; charset=utf-8`).header('content-disposition', 'attachment; filename="pantheon-memory.jsonl"').send(lines.join(''));
    }),
  );

  app.post('/api/memory/import', async (req, reply) => {
    if (!(req.body instanceof Readable)) {
      return sendError(req, reply, 415, 'unsupported_media_type', `send the JSONL export as the body with content-type ${NDJSON}`);
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > importLimit) {
      reply.header('connection', 'close');
      return sendError(req, reply, 413, 'payload_too_large', `the import is larger than its limit of ${importLimit} bytes; split the file and import the parts`);
    }
    let spooled: Awaited<ReturnType<typeof spoolBody>> | null = null;
    try {
      spooled = await spoolBody(req.body, importLimit);
      const lines = streamLines(createReadStream(spooled.path), { maxBytes: importLimit, maxLineBytes: IMPORT_LINE_LIMIT });
      return await guarded(req, reply, async () => ({ imported: await store.importJsonl(lines) }));
    } catch (err) {
      if (!(err instanceof ImportTooLargeError)) throw err;
      // What came before the limit may be stored (a large import is stored as it is read): importing the file again skips it.
      reply.header('connection', 'close');
      return sendError(req, reply, 413, 'payload_too_large', `${err.message}; split the file and import the parts (memories already imported are skipped)`);
    } finally {
      await spooled?.remove();
    }
  });

  app.post('/api/memory/reembed', async (req, reply) => guarded(req, reply, async () => ({ reembedded: await store.reembed({}) })));

  app.get<{ Params: { id: string } }>('/api/memory/:id', async (req, reply) =>
    guarded(req, reply, async () => {
      const memory = await store.get(req.params.id);
      if (!memory) return sendError(req, reply, 404, 'not_found', `no memory ${req.params.id}`);
      return { memory };
    }),
  );

  app.delete<{ Params: { id: string } }>('/api/memory/:id', async (req, reply) =>
    guarded(req, reply, async () => {
      if (!(await store.forget(req.params.id))) return sendError(req, reply, 404, 'not_found', `no memory ${req.params.id}`);
      return { deleted: true, id: req.params.id };
    }),
  );
}

/** Every scope that holds memories: a human searching without `scope` searches them all. */
async function allScopes(store: MemoryStore): Promise<MemoryScope[]> {
  const { counts } = await store.status();
  return Object.keys(counts.byScope ?? {}) as MemoryScope[];
}

/** The store's own errors as answers that say what to do; anything else is the error handler's. */
async function guarded<T>(req: FastifyRequest, reply: FastifyReply, fn: () => Promise<T>): Promise<T | FastifyReply> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof EmbedderMismatchError) return sendError(req, reply, 409, 'embedder_mismatch', err.message);
    if (err instanceof MemoryUnavailableError) return sendError(req, reply, 503, 'memory_unavailable', err.message);
    if (err instanceof MemoryImportError) return sendError(req, reply, 422, 'import_incomplete', err.message);
    throw err;
  }
}
