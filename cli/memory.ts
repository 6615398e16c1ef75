import { readFile, writeFile } from 'node:fs/promises';
import { ConfigError, loadConfig } from '../core/config/index.js';
import { createEmbedder } from '../memory/embedders/index.js';
import { MemoryStore } from '../memory/store.js';
import { MEMORY_KINDS, type Memory, type MemoryKind, type MemoryScope, type RecallHit } from '../memory/types.js';
import { memoryAge } from '../memory/tools/format.js';
import { authorization, unauthorizedMessage } from './server-token.js';
import { findServer, formatTable, formatTime, HttpAnswerError, truncate, usage, withDatabase, type ReadSourceOptions } from './audit.js';

const MEMORY_SUBCOMMANDS = ['search', 'list', 'show', 'forget', 'stats', 'reembed', 'export', 'import'] as const;
export type MemorySubcommand = (typeof MEMORY_SUBCOMMANDS)[number];

export interface MemoryCommandOptions extends ReadSourceOptions {
  /** A scope (team, persona:<id>, conversation:<thread>, repo:<owner>/<repo>); repeatable via commas. */
  scope?: string;
  /** A kind (fact, decision, ...); commas for several. */
  kind?: string;
  limit?: number | string;
  /** `list`: include archived memories. */
  archived?: boolean;
  json?: boolean;
  /** `export`: write here instead of stdout. */
  out?: string;
}

type StoreStatus = Awaited<ReturnType<MemoryStore['status']>>;

/**
 * `pantheon memory <sub>`: search, list, show, forget, stats, reembed, export and import the
 * team's memory. Talks to a running server over its HTTP API when one answers (the embedded
 * database belongs to the process that runs it; PANTHEON_CONSOLE_TOKEN is sent), otherwise
 * opens the database directly, as `pantheon audit` does.
 */
export async function memoryCommand(sub: MemorySubcommand, args: string[], opts: MemoryCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const scopes = opts.scope ? usage('--scope', () => parseScopes(opts.scope!)) : undefined;
  const kinds = opts.kind ? usage('--kind', () => parseKinds(opts.kind!)) : undefined;
  const limit = opts.limit === undefined ? undefined : usage('--limit', () => positiveInt(opts.limit!));
  const server = await findServer(opts);
  const source: Source = server ? httpSource(server) : databaseSource(opts);

  switch (sub) {
    case 'search': {
      const query = args.join(' ').trim();
      if (!query) throw new ConfigError('search', '', 'say what to search for: pantheon memory search "rate limiting"');
      const hits = await source.search(query, { scopes, kinds, limit });
      if (opts.json) return writeLines(out, hits);
      if (!hits.length) return void out.write('No memories match.\n');
      const now = new Date();
      out.write(
        formatTable(
          ['ID', 'KIND', 'SCOPE', 'SCORE', 'AGE', 'SOURCE', 'CONTENT'],
          hits.map((h) => [h.memory.id, h.memory.kind, h.memory.scope, h.score.toFixed(3), memoryAge(h.memory.createdAt, now), h.memory.source ?? '', truncate(h.memory.content, 90)]),
        ),
      );
      return;
    }
    case 'list': {
      const memories = await source.list({ scopes, kinds, limit, includeArchived: !!opts.archived });
      if (opts.json) return writeLines(out, memories);
      if (!memories.length) return void out.write('No memories.\n');
      out.write(
        formatTable(
          ['ID', 'KIND', 'SCOPE', 'CREATED', 'SOURCE', 'CONTENT'],
          memories.map((m) => [m.id + (m.archivedAt ? ' (archived)' : ''), m.kind, m.scope, formatTime(m.createdAt), m.source ?? '', truncate(m.content, 90)]),
        ),
      );
      return;
    }
    case 'show': {
      const id = requireId(args, 'show');
      const memory = await source.show(id);
      if (!memory) throw new Error(`no memory ${id}; \`pantheon memory list\` shows their ids`);
      if (opts.json) return writeLines(out, [memory]);
      out.write(describe(memory));
      return;
    }
    case 'forget': {
      const id = requireId(args, 'forget');
      if (!(await source.forget(id))) throw new Error(`no memory ${id}; \`pantheon memory list\` shows their ids`);
      out.write(opts.json ? `${JSON.stringify({ deleted: true, id })}\n` : `Forgot ${id}.\n`);
      return;
    }
    case 'stats': {
      const status = await source.stats();
      if (opts.json) return writeLines(out, [status]);
      out.write(describeStatus(status));
      return;
    }
    case 'reembed': {
      const n = await source.reembed();
      out.write(opts.json ? `${JSON.stringify({ reembedded: n })}\n` : `Re-embedded ${n} ${n === 1 ? 'memory' : 'memories'}.\n`);
      return;
    }
    case 'export': {
      const { text, count } = await source.exportJsonl();
      if (opts.out) {
        await writeFile(opts.out, text);
        process.stderr.write(`Exported ${count} ${count === 1 ? 'memory' : 'memories'} to ${opts.out}.\n`);
      } else {
        out.write(text);
      }
      return;
    }
    case 'import': {
      const file = requireId(args, 'import', 'the JSONL file to import (from `pantheon memory export`)');
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new Error(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
      }
      const n = await source.importJsonl(text.split('\n').filter((l) => l.trim()));
      out.write(opts.json ? `${JSON.stringify({ imported: n })}\n` : `Imported ${n} ${n === 1 ? 'memory' : 'memories'}.\n`);
      return;
    }
    default:
      throw new ConfigError('memory', '', `unknown subcommand "${String(sub)}": use ${MEMORY_SUBCOMMANDS.join(', ')}`);
  }
}

/** What each subcommand needs, from a server or from the database. */
interface Source {
  search(text: string, f: { scopes?: MemoryScope[]; kinds?: MemoryKind[]; limit?: number }): Promise<RecallHit[]>;
  list(f: { scopes?: MemoryScope[]; kinds?: MemoryKind[]; limit?: number; includeArchived: boolean }): Promise<Memory[]>;
  show(id: string): Promise<Memory | undefined>;
  forget(id: string): Promise<boolean>;
  stats(): Promise<StoreStatus>;
  reembed(): Promise<number>;
  exportJsonl(): Promise<{ text: string; count: number }>;
  importJsonl(lines: string[]): Promise<number>;
}

function httpSource(base: string): Source {
  const query = (f: { scopes?: MemoryScope[]; kinds?: MemoryKind[]; limit?: number; includeArchived?: boolean }, q?: string) => {
    const p = new URLSearchParams();
    if (q) p.set('q', q);
    for (const s of f.scopes ?? []) p.append('scope', s);
    for (const k of f.kinds ?? []) p.append('kind', k);
    if (f.limit) p.set('limit', String(f.limit));
    if (f.includeArchived) p.set('archived', '1');
    return p.toString();
  };
  const notFound = (err: unknown) => err instanceof HttpAnswerError && err.status === 404 && /no memory/.test(err.message);
  return {
    search: async (text, f) => ((await api(base, 'GET', `/api/memory?${query(f, text)}`)) as { hits: RecallHit[] }).hits,
    list: async (f) => ((await api(base, 'GET', `/api/memory?${query(f)}`)) as { memories: Memory[] }).memories,
    show: async (id) => {
      try {
        return ((await api(base, 'GET', `/api/memory/${encodeURIComponent(id)}`)) as { memory: Memory }).memory;
      } catch (err) {
        if (notFound(err)) return undefined;
        throw err;
      }
    },
    forget: async (id) => {
      try {
        await api(base, 'DELETE', `/api/memory/${encodeURIComponent(id)}`);
        return true;
      } catch (err) {
        if (notFound(err)) return false;
        throw err;
      }
    },
    stats: async () => (await api(base, 'GET', '/api/memory/stats')) as StoreStatus,
    reembed: async () => ((await api(base, 'POST', '/api/memory/reembed', { timeoutMs: 3_600_000 })) as { reembedded: number }).reembedded,
    exportJsonl: async () => {
      const text = (await api(base, 'GET', '/api/memory/export', { text: true, timeoutMs: 600_000 })) as string;
      return { text, count: text.split('\n').filter((l) => l.trim()).length };
    },
    importJsonl: async (lines) => ((await api(base, 'POST', '/api/memory/import', { body: lines.map((l) => `${l}\n`).join(''), timeoutMs: 600_000 })) as { imported: number }).imported,
  };
}

function databaseSource(opts: MemoryCommandOptions): Source {
  const withStore = <T>(fn: (store: MemoryStore) => Promise<T>) =>
    withDatabase(opts, async (pool) => {
      const { config } = await loadConfig({ configPath: opts.config, dataDir: opts.dataDir });
      const store = new MemoryStore(pool, createEmbedder(config.memory.embedder, process.env));
      await store.init();
      return fn(store);
    });
  return {
    search: (text, f) => withStore(async (s) => s.recall({ text, scopes: f.scopes ?? (Object.keys((await s.status()).counts.byScope ?? {}) as MemoryScope[]), kinds: f.kinds, limit: f.limit ?? 20 })),
    list: (f) => withStore((s) => s.list({ scopes: f.scopes, kinds: f.kinds, includeArchived: f.includeArchived, limit: f.limit ?? 100 })),
    show: (id) => withStore(async (s) => (await s.get(id)) ?? undefined),
    forget: (id) => withStore((s) => s.forget(id)),
    stats: () => withStore((s) => s.status()),
    reembed: () => withStore((s) => s.reembed({ onProgress: (done: number, total?: number) => process.stderr.write(`re-embedded ${done}${total ? ` of ${total}` : ''}\r`) })),
    exportJsonl: () =>
      withStore(async (s) => {
        const parts: string[] = [];
        const count = await s.exportJsonl((line: string) => void parts.push(line.endsWith('\n') ? line : `${line}\n`));
        return { text: parts.join(''), count };
      }),
    importJsonl: (lines) => withStore((s) => s.importJsonl(lines)),
  };
}

/** Calls the memory API with the server's API token; errors say what to fix (as `getJson` does). */
async function api(base: string, method: 'GET' | 'POST' | 'DELETE', path: string, opts: { body?: string; text?: boolean; timeoutMs?: number } = {}): Promise<unknown> {
  const headers: Record<string, string> = authorization();
  if (opts.body !== undefined) headers['content-type'] = 'application/x-ndjson';
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, { method, headers, body: opts.body, signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) });
  } catch (err) {
    throw new Error(
      `cannot reach Pantheon at ${base} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); is \`pantheon start\` running? Without --url and PANTHEON_URL the database is used directly.`,
    );
  }
  if (res.ok && opts.text) return res.text();
  const body = (await res.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
  if (res.ok && body) return body;
  if (res.status === 401) throw new Error(unauthorizedMessage());
  throw new HttpAnswerError(res.status, body?.error?.message ?? `${method} ${base}${path.split('?')[0]} answered ${res.status}`);
}

function describe(m: Memory): string {
  const lines = [
    `${m.id}  ${m.kind}  ${m.scope}${m.archivedAt ? `  (archived ${formatTime(m.archivedAt)})` : ''}`,
    `  source: ${m.source ?? '-'}   author: ${m.author ?? '-'}`,
    `  created ${formatTime(m.createdAt)}; last used ${formatTime(m.accessedAt)}, ${m.accessCount} ${m.accessCount === 1 ? 'use' : 'uses'}${m.expiresAt ? `; expires ${formatTime(m.expiresAt)}` : ''}`,
  ];
  if (Object.keys(m.metadata ?? {}).length) lines.push(`  metadata: ${JSON.stringify(m.metadata)}`);
  lines.push('', m.content, '');
  return lines.join('\n');
}

function describeStatus(s: StoreStatus): string {
  const name = (e: unknown) => (e && typeof e === 'object' ? `${(e as { name?: string }).name} (${(e as { dimension?: number }).dimension} dimensions)` : 'none recorded');
  const lines = [`embedder: ${name(s.current)}`, `stored with: ${name(s.embedder)}`];
  if (s.mismatch) lines.push('MISMATCH: search is refused until you run `pantheon memory reembed`');
  lines.push(`memories: ${s.counts.total} (${s.counts.archived} archived)`);
  const section = (title: string, counts: Record<string, number> | undefined) => {
    const entries = Object.entries(counts ?? {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    if (entries.length) lines.push(`${title}:`, ...entries.map(([k, n]) => `  ${k}: ${n}`));
  };
  section('by scope', s.counts.byScope);
  section('by kind', s.counts.byKind);
  return lines.join('\n') + '\n';
}

function writeLines(out: NodeJS.WritableStream, values: readonly unknown[]): void {
  for (const v of values) out.write(`${JSON.stringify(v)}\n`);
}

function requireId(args: string[], sub: string, what = 'the memory id (`pantheon memory list` shows them)'): string {
  const id = args[0]?.trim();
  if (!id) throw new ConfigError(sub, '', `give ${what}`);
  return id;
}

function parseScopes(value: string): MemoryScope[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      if (s === 'team' || /^(persona|conversation|repo):.+/.test(s)) return s as MemoryScope;
      throw new Error(`"${s}" is not a scope: use team, persona:<id>, conversation:<thread> or repo:<owner>/<repo>`);
    });
}

function parseKinds(value: string): MemoryKind[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((k) => {
      if ((MEMORY_KINDS as readonly string[]).includes(k)) return k as MemoryKind;
      throw new Error(`unknown kind "${k}": use ${MEMORY_KINDS.join(', ')}`);
    });
}

function positiveInt(value: number | string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error(`expected a whole number from 1 to 1000, got "${value}"`);
  return n;
}
