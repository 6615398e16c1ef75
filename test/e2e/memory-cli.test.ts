import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { createHttpServer, listen } from '../../core/http/index.js';
import { createLogger } from '../../core/log.js';
import { createMetrics } from '../../core/metrics.js';
import { LexicalEmbedder, MemoryStore, type Memory, type RecallHit } from '../../memory/index.js';
import { registerMemoryRoutes } from '../../memory/routes.js';
import { cleanEnv, runCli, tempDir } from '../support/pantheon-process.js';

const logger = createLogger({ level: 'silent' });
const TOKEN = 'memory-console-token-0123456789';

const unusedPort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
const jsonLines = <T>(stdout: string): T[] =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

/** A data dir with a migrated database and a few memories, closed again (the CLI opens it). */
async function filledDataDir(prefix: string): Promise<{ dir: { path: string; remove: () => Promise<void> }; ids: Record<string, string> }> {
  const dir = await tempDir(prefix);
  const db = await createDatabase({ dataDir: dir.path, logger });
  try {
    await migrate(db.pool, { logger });
    const store = new MemoryStore(db.pool, new LexicalEmbedder());
    const ids: Record<string, string> = {};
    ids.rate = (await store.remember({ scope: 'team', kind: 'decision', content: 'Rate limiting uses a Redis token bucket, 100 requests per minute.', source: 'local:planning', author: 'athena' })).id;
    ids.deploy = (await store.remember({ scope: 'repo:acme/api', kind: 'runbook', content: 'Deploy acme/api with the deploy-staging workflow.', source: 'gh:acme/api#40', author: 'hephaestus' })).id;
    ids.private = (await store.remember({ scope: 'persona:apollo', kind: 'preference', content: 'Apollo prefers small pull requests.', author: 'apollo' })).id;
    return { dir, ids };
  } finally {
    await db.close();
  }
}

describe('pantheon memory, on the database directly', () => {
  let data: Awaited<ReturnType<typeof filledDataDir>>;
  let fresh: { path: string; remove: () => Promise<void> };
  let env: NodeJS.ProcessEnv;

  before(async () => {
    data = await filledDataDir('pantheon-memory-cli-');
    fresh = await tempDir('pantheon-memory-import-');
    const db = await createDatabase({ dataDir: fresh.path, logger });
    await migrate(db.pool, { logger }).finally(() => db.close());
    env = cleanEnv({ PORT: String(await unusedPort()) });
  });
  after(async () => {
    await data?.dir.remove();
    await fresh?.remove();
  });

  const cli = (...args: string[]) => runCli(['memory', ...args], { env });

  it('stats shows the embedder and the counts', async () => {
    const { code, stdout, stderr } = await cli('stats', '--data-dir', data.dir.path);
    assert.equal(code, 0, stderr);
    assert.equal(
      stdout,
      [
        'embedder: lexical-hash-v1 (384 dimensions)',
        'stored with: lexical-hash-v1 (384 dimensions)',
        'memories: 3 (0 archived)',
        'by scope:',
        '  persona:apollo: 1',
        '  repo:acme/api: 1',
        '  team: 1',
        'by kind:',
        '  decision: 1',
        '  preference: 1',
        '  runbook: 1',
        '',
      ].join('\n'),
    );
  });

  it('search finds across every scope, as a table or JSON lines', async () => {
    const table = await cli('search', 'rate limiting', '--data-dir', data.dir.path);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^ID\s+KIND\s+SCOPE\s+SCORE\s+AGE\s+SOURCE\s+CONTENT$/);
    assert.match(lines[1]!, new RegExp(`^${data.ids.rate}\\s+decision\\s+team\\s+0\\.\\d{3}\\s+just now\\s+local:planning\\s+Rate limiting uses a Redis token bucket, 100 requests per minute\\.$`));

    const json = await cli('search', 'small pull requests', '--scope', 'persona:apollo', '--json', '--data-dir', data.dir.path);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(
      jsonLines<RecallHit>(json.stdout).map((h) => h.memory.id),
      [data.ids.private],
    );
  });

  it('list filters by kind, show prints one memory', async () => {
    const list = await cli('list', '--kind', 'runbook,decision', '--json', '--data-dir', data.dir.path);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(new Set(jsonLines<Memory>(list.stdout).map((m) => m.id)), new Set([data.ids.rate, data.ids.deploy]));

    const show = await cli('show', data.ids.deploy, '--data-dir', data.dir.path);
    assert.equal(show.code, 0, show.stderr);
    assert.match(
      show.stdout,
      new RegExp(
        `^${data.ids.deploy}  runbook  repo:acme/api\\n  source: gh:acme/api#40   author: hephaestus\\n  created \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ; last used .*\\n\\nDeploy acme/api with the deploy-staging workflow\\.\\n$`,
      ),
    );
  });

  it('refuses a kind or scope it does not know, with exit code 2', async () => {
    const kind = await cli('list', '--kind', 'gossip', '--data-dir', data.dir.path);
    assert.equal(kind.code, 2);
    assert.match(kind.stderr, /--kind: unknown kind "gossip": use fact, decision, preference, summary, code_context, runbook/);
    const scope = await cli('search', 'x', '--scope', 'everyone', '--data-dir', data.dir.path);
    assert.equal(scope.code, 2);
    assert.match(scope.stderr, /--scope: "everyone" is not a scope/);
  });

  it('export then import carries the memories to another data dir; reembed re-embeds them', async () => {
    const file = join(fresh.path, 'memory.jsonl');
    const exported = await cli('export', '--out', file, '--data-dir', data.dir.path);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, new RegExp(`Exported 3 memories to ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.`));
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    assert.equal(lines.length, 3);

    const imported = await cli('import', file, '--data-dir', fresh.path);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(imported.stdout, 'Imported 3 memories.\n');
    const again = await cli('import', file, '--data-dir', fresh.path);
    assert.equal(again.stdout, 'Imported 0 memories.\n', 'ids already stored are skipped');
    const found = await cli('search', 'deploy staging workflow', '--json', '--data-dir', fresh.path);
    assert.equal(jsonLines<RecallHit>(found.stdout)[0]?.memory.id, data.ids.deploy);

    const reembed = await cli('reembed', '--data-dir', fresh.path);
    assert.equal(reembed.code, 0, reembed.stderr);
    assert.equal(reembed.stdout, 'Re-embedded 3 memories.\n');
  });

  it('forget deletes for real; show and forget then say there is no such memory', async () => {
    const forgot = await cli('forget', data.ids.rate, '--data-dir', data.dir.path);
    assert.equal(forgot.code, 0, forgot.stderr);
    assert.equal(forgot.stdout, `Forgot ${data.ids.rate}.\n`);
    const search = await cli('search', 'rate limiting token bucket', '--json', '--data-dir', data.dir.path);
    assert.ok(!search.stdout.includes(data.ids.rate));
    const show = await cli('show', data.ids.rate, '--data-dir', data.dir.path);
    assert.equal(show.code, 1);
    assert.match(show.stderr, new RegExp(`no memory ${data.ids.rate}; \`pantheon memory list\` shows their ids`));
  });
});

describe("pantheon memory, through a running server's HTTP API", () => {
  let dir: { path: string; remove: () => Promise<void> };
  let db: Database;
  let store: MemoryStore;
  let app: FastifyInstance;
  let url: string;
  let ids: Record<string, string>;
  const auth = { authorization: `Bearer ${TOKEN}` };

  before(async () => {
    const data = await filledDataDir('pantheon-memory-http-');
    dir = data.dir;
    ids = data.ids;
    db = await createDatabase({ dataDir: dir.path, logger });
    store = new MemoryStore(db.pool, new LexicalEmbedder());
    app = createHttpServer({ logger, metrics: createMetrics(), bodyLimitBytes: 1024 * 1024, consoleToken: TOKEN, ready: () => true });
    registerMemoryRoutes(app, { store });
    ({ url } = await listen(app, { host: '127.0.0.1', port: 0 }));
  });
  after(async () => {
    await app?.close();
    await db?.close();
    await dir?.remove();
  });

  const cli = (...args: string[]) => runCli(['memory', ...args, '--url', url], { env: cleanEnv({ PANTHEON_CONSOLE_TOKEN: TOKEN }) });

  it('needs the console token', async () => {
    assert.equal((await fetch(`${url}/api/memory`)).status, 401);
    const { code, stderr } = await runCli(['memory', 'stats', '--url', url, '--data-dir', dir.path], { env: cleanEnv() });
    assert.equal(code, 1);
    assert.match(stderr, /the server needs a console token; set PANTHEON_CONSOLE_TOKEN/);
  });

  it('GET /api/memory searches with q and lists without', async () => {
    const search = (await (await fetch(`${url}/api/memory?q=${encodeURIComponent('token bucket rate limiting')}&limit=1`, { headers: auth })).json()) as { hits: RecallHit[] };
    assert.deepEqual(
      search.hits.map((h) => h.memory.id),
      [ids.rate],
    );
    assert.ok(search.hits[0]!.score > 0);
    const list = (await (await fetch(`${url}/api/memory?scope=repo:acme/api&scope=team`, { headers: auth })).json()) as { memories: Memory[] };
    assert.deepEqual(new Set(list.memories.map((m) => m.id)), new Set([ids.rate, ids.deploy]));
    const bad = await fetch(`${url}/api/memory?kind=gossip`, { headers: auth });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /^kind: /);
  });

  it('the CLI reads, forgets and exports through the API', async () => {
    const stats = await cli('stats', '--json');
    assert.equal(stats.code, 0, stats.stderr);
    assert.equal(jsonLines<{ counts: { total: number } }>(stats.stdout)[0]!.counts.total, 3);

    const search = await cli('search', 'deploy', 'workflow', '--kind', 'runbook');
    assert.equal(search.code, 0, search.stderr);
    assert.match(search.stdout.split('\n')[1]!, new RegExp(`^${ids.deploy}\\s+runbook\\s+repo:acme/api\\s+`));

    const show = await cli('show', ids.private, '--json');
    assert.equal(jsonLines<Memory>(show.stdout)[0]!.content, 'Apollo prefers small pull requests.');

    const exported = await cli('export');
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(exported.stdout.trim().split('\n').length, 3);

    assert.equal((await cli('forget', ids.private)).stdout, `Forgot ${ids.private}.\n`);
    assert.equal(await store.get(ids.private), null);
    const missing = await cli('forget', ids.private);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, new RegExp(`no memory ${ids.private}`));
  });

  it('imports JSONL and exports it back', async () => {
    const line = JSON.stringify({
      id: 'mem_imported_1',
      scope: 'team',
      kind: 'fact',
      content: 'The office wifi is called pantheon-guest.',
      metadata: {},
      source: null,
      author: 'jeff',
      createdAt: new Date().toISOString(),
    });
    const file = join(dir.path, 'one.jsonl');
    await writeFile(file, `${line}\n`);
    const imported = await cli('import', file);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(imported.stdout, 'Imported 1 memory.\n');
    const res = await fetch(`${url}/api/memory/export`, { headers: auth });
    assert.match(res.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    assert.ok((await res.text()).split('\n').some((l) => l.includes('mem_imported_1') && l.includes('pantheon-guest')));

    const bad = await fetch(`${url}/api/memory/import`, { method: 'POST', headers: { ...auth, 'content-type': 'application/x-ndjson' }, body: `${line}\nnot json\n` });
    assert.equal(bad.status, 422);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /^imported 0 memories; 1 line\(s\) were refused: line 2: /);
  });

  it('an embedder mismatch answers 409 with what to run', async () => {
    const mismatched = createHttpServer({ logger, metrics: createMetrics(), bodyLimitBytes: 1024 * 1024, consoleToken: TOKEN, ready: () => true });
    registerMemoryRoutes(mismatched, { store: new MemoryStore(db.pool, new LexicalEmbedder({ dimension: 96 })) });
    try {
      const res = await mismatched.inject({ method: 'GET', url: '/api/memory?q=rate', headers: auth });
      assert.equal(res.statusCode, 409);
      assert.equal(res.json().error.code, 'embedder_mismatch');
      assert.match(res.json().error.message, /run `pantheon memory reembed` before searching/);
      const stats = await mismatched.inject({ method: 'GET', url: '/api/memory/stats', headers: auth });
      assert.equal(stats.json().mismatch, true);
    } finally {
      await mismatched.close();
    }
  });
});
