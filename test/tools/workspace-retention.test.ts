import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../../core/log.js';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { WorkLedger } from '../../ledger/index.js';
import { cleanWorkspaces, removeWorkspace, startWorkspaceCleanup } from '../../tools/workspace/cleanup.js';
import { listWorkspacesOnDisk } from '../../tools/workspace/inventory.js';
import { metaFile, personaRoot, transportRepo, workspaceHome, workspaceName } from '../../tools/workspace/naming.js';
import { ledgerWorkItems, removalNote, retentionOf, type WorkItemLookup } from '../../tools/workspace/retention.js';
import { Workspaces } from '../../tools/workspace/workspaces.js';
import { tempDir } from '../support/pantheon-process.js';

const DAY = 24 * 60 * 60_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY);

/** Every part of a workspace, as clone leaves them, last used `usedAt`. */
async function makeWorkspace(dataDir: string, persona: string, issue: number, usedAt: Date, opts: { meta?: boolean } = {}): Promise<string> {
  const name = workspaceName('acme', 'api', issue);
  const checkout = join(personaRoot(dataDir, persona), name);
  await mkdir(join(checkout, '.git'), { recursive: true });
  await writeFile(join(checkout, 'README.md'), 'hello\n');
  await mkdir(workspaceHome(dataDir, persona, name), { recursive: true });
  await writeFile(join(workspaceHome(dataDir, persona, name), '.npmrc'), 'cache=here\n');
  await mkdir(transportRepo(dataDir, persona, name), { recursive: true });
  await writeFile(join(transportRepo(dataDir, persona, name), 'HEAD'), 'ref: refs/heads/main\n');
  const paths = [checkout, workspaceHome(dataDir, persona, name), transportRepo(dataDir, persona, name)];
  if (opts.meta !== false) {
    await new Workspaces(dataDir, persona).saveMeta(name, {
      owner: 'acme',
      repo: 'api',
      issue,
      branch: `pantheon/${persona}/${issue}-x`,
      defaultBranch: 'main',
      cloneUrl: 'https://github.com/acme/api.git',
    });
    paths.push(metaFile(dataDir, persona, name));
  }
  for (const p of paths) await utimes(p, usedAt, usedAt);
  return name;
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

async function partsLeft(dataDir: string, persona: string, name: string): Promise<string[]> {
  const parts = {
    checkout: join(personaRoot(dataDir, persona), name),
    home: workspaceHome(dataDir, persona, name),
    meta: metaFile(dataDir, persona, name),
    transport: transportRepo(dataDir, persona, name),
  };
  const left: string[] = [];
  for (const [part, path] of Object.entries(parts)) if (await exists(path)) left.push(part);
  return left;
}

describe('workspace retention, with the work ledger on embedded PGlite', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let db: Database;
  let ledger: WorkLedger;
  before(async () => {
    dir = await tempDir('pantheon-retention-');
    db = await createDatabase({ dataDir: join(dir.path, 'db'), logger: createLogger({ level: 'silent' }) });
    await migrate(db.pool, { logger: createLogger({ level: 'silent' }) });
    ledger = new WorkLedger(db.pool);
  });
  after(async () => {
    await db?.close();
    await dir?.remove();
  });

  /** A work item for acme/api#issue, in `state`, which it reached `endedDaysAgo` days ago. */
  async function workItem(issue: number, state: 'in_progress' | 'done' | 'merged', endedDaysAgo = 0): Promise<string> {
    const item = await ledger.create({ kind: 'issue', title: `Issue ${issue}`, externalRef: `github:acme/api#${issue}`, owner: 'apollo', actor: 'athena' });
    await ledger.transition(item.id, state, { actor: 'jeff' });
    await db.pool.query(`UPDATE work_item_events SET at = at - make_interval(days => $2) WHERE work_item_id = $1`, [item.id, endedDaysAgo]);
    await db.pool.query(`UPDATE work_items SET updated_at = updated_at - make_interval(days => $2) WHERE id = $1`, [item.id, endedDaysAgo]);
    return item.id;
  }

  test("removes what ended long ago or was never anyone's work, keeps work in flight and what is in use", async () => {
    const dataDir = join(dir.path, 'data');
    const ended = await makeWorkspace(dataDir, 'apollo', 1, daysAgo(20));
    const endedId = await workItem(1, 'merged', 30);
    const inFlight = await makeWorkspace(dataDir, 'apollo', 2, daysAgo(30));
    await workItem(2, 'in_progress', 30);
    const orphan = await makeWorkspace(dataDir, 'hermes', 3, daysAgo(10));
    const inUse = await makeWorkspace(dataDir, 'apollo', 4, new Date(Date.now() - 10 * 60_000));
    await workItem(4, 'done', 30);
    const recentOrphan = await makeWorkspace(dataDir, 'hermes', 5, daysAgo(2));
    // What a failed clone leaves: a HOME and nothing else, long unused.
    const leftover = workspaceName('acme', 'api', 6);
    await mkdir(workspaceHome(dataDir, 'hermes', leftover), { recursive: true });
    await utimes(workspaceHome(dataDir, 'hermes', leftover), daysAgo(9), daysAgo(9));
    // Go's module cache makes read-only directories; removal must still get through.
    await mkdir(join(personaRoot(dataDir, 'apollo'), ended, 'gomod', 'pkg'), { recursive: true });
    await writeFile(join(personaRoot(dataDir, 'apollo'), ended, 'gomod', 'pkg', 'x.go'), 'package x\n');
    await chmod(join(personaRoot(dataDir, 'apollo'), ended, 'gomod', 'pkg'), 0o555);
    await chmod(join(personaRoot(dataDir, 'apollo'), ended, 'gomod'), 0o555);
    await utimes(join(personaRoot(dataDir, 'apollo'), ended), daysAgo(20), daysAgo(20));

    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(JSON.parse(s)) } });
    const removed = await cleanWorkspaces({ dataDir, retentionDays: 7, lookup: ledgerWorkItems(ledger), logger });

    assert.deepEqual(removed.map((r) => `${r.persona}/${r.name}`).sort(), [`apollo/${ended}`, `hermes/${orphan}`, `hermes/${leftover}`]);
    assert.deepEqual(await partsLeft(dataDir, 'apollo', ended), []);
    assert.deepEqual(await partsLeft(dataDir, 'hermes', orphan), []);
    assert.deepEqual(await partsLeft(dataDir, 'hermes', leftover), []);
    for (const [persona, name] of [
      ['apollo', inFlight],
      ['apollo', inUse],
      ['hermes', recentOrphan],
    ] as const) {
      assert.deepEqual(await partsLeft(dataDir, persona, name), ['checkout', 'home', 'meta', 'transport'], `${persona}/${name} is kept whole`);
    }

    const endedRemoval = removed.find((r) => r.name === ended)!;
    assert.equal(endedRemoval.reason, `work item ${endedId} merged 30 days ago`);
    assert.ok(endedRemoval.bytesFreed > 0);
    assert.match(removed.find((r) => r.name === orphan)!.reason, /^no work item, last used 10 days ago$/);
    const logged = lines.filter((l) => l.msg && String(l.msg).startsWith('removed workspace'));
    assert.equal(logged.length, 3);
    const line = logged.find((l) => l.workspace === ended)!;
    assert.equal(line.persona, 'apollo');
    assert.equal(line.reason, `work item ${endedId} merged 30 days ago`);
    assert.equal(line.bytesFreed, endedRemoval.bytesFreed);
    assert.match(String(line.msg), new RegExp(`^removed workspace apollo/${ended} \\(work item ${endedId} merged 30 days ago; kept 7 days\\): \\d+(\\.\\d)? KB freed$`));

    // A second pass finds nothing more to do.
    assert.deepEqual(await cleanWorkspaces({ dataDir, retentionDays: 7, lookup: ledgerWorkItems(ledger), logger }), []);
  });

  test('a workspace whose work item cannot be looked up is kept', async () => {
    const dataDir = join(dir.path, 'broken-ledger');
    const name = await makeWorkspace(dataDir, 'apollo', 7, daysAgo(40));
    const failing: WorkItemLookup = {
      forIssue: async () => {
        throw new Error('database unavailable');
      },
    };
    const logger = createLogger({ level: 'silent' });
    assert.deepEqual(await cleanWorkspaces({ dataDir, retentionDays: 7, lookup: failing, logger }), []);
    assert.deepEqual(await cleanWorkspaces({ dataDir, retentionDays: 7, logger }), []);
    assert.equal((await partsLeft(dataDir, 'apollo', name)).length, 4);
  });

  test('the clean-up timer runs a pass at once and stops on request', async () => {
    const dataDir = join(dir.path, 'timer');
    const name = await makeWorkspace(dataDir, 'apollo', 8, daysAgo(8));
    const cleanup = startWorkspaceCleanup({ dataDir, retentionDays: 7, lookup: ledgerWorkItems(ledger), logger: createLogger({ level: 'silent' }), intervalMs: 60_000 });
    const deadline = Date.now() + 10_000;
    while ((await partsLeft(dataDir, 'apollo', name)).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await cleanup.stop();
    assert.deepEqual(await partsLeft(dataDir, 'apollo', name), []);
  });
});

describe('retentionOf', () => {
  const meta = { owner: 'acme', repo: 'api', issue: 12, branch: 'pantheon/apollo/12-x', defaultBranch: 'main', cloneUrl: 'https://github.com/acme/api.git' };
  const now = new Date('2026-03-10T12:00:00Z');
  const before = (days: number, minutes = 0) => new Date(now.getTime() - days * DAY - minutes * 60_000);
  const ws = (lastUsedAt: Date, withMeta = true) => ({ persona: 'apollo', name: 'acme-api-12', meta: withMeta ? meta : undefined, lastUsedAt });
  const lookup = (item: Awaited<ReturnType<WorkItemLookup['forIssue']>>): WorkItemLookup => ({ forIssue: async () => item });

  test('says when a workspace will go and why', async () => {
    const done = await retentionOf(ws(before(3)), lookup({ id: 'W-3', state: 'done', endedAt: before(3) }), { retentionDays: 7 }, now);
    assert.equal(done.remove, false);
    assert.equal(`${done.reason}${removalNote(done, now)}`, 'work item W-3 done 3 days ago → removed in 4 days');

    const flying = await retentionOf(ws(before(90)), lookup({ id: 'W-4', state: 'in_review' }), { retentionDays: 7 }, now);
    assert.deepEqual([flying.remove, flying.reason, removalNote(flying, now)], [false, 'work item W-4 in_review', '']);

    const none = await retentionOf(ws(before(8)), lookup(undefined), { retentionDays: 7 }, now);
    assert.deepEqual([none.remove, none.reason], [true, 'no work item, last used 8 days ago']);

    const busy = await retentionOf(ws(before(0, 20)), lookup({ id: 'W-5', state: 'merged', endedAt: before(30) }), { retentionDays: 7 }, now);
    assert.equal(busy.remove, false);
    assert.equal(`${busy.reason}${removalNote(busy, now)}`, 'work item W-5 merged 30 days ago; in use (last used 20 min ago) → removed in 40 min');

    const immediate = await retentionOf(ws(before(2)), lookup({ id: 'W-6', state: 'merged', endedAt: before(0, 80) }), { retentionDays: 0 }, now);
    assert.deepEqual([immediate.remove, immediate.reason], [true, 'work item W-6 merged 80 min ago']);

    const noMeta = await retentionOf(ws(before(1), false), undefined, { retentionDays: 7 }, now);
    assert.deepEqual([noMeta.remove, `${noMeta.reason}${removalNote(noMeta, now)}`], [false, 'no metadata, last used 24 hours ago → removed in 6 days']);
  });
});

describe('Workspaces.touch and removal', () => {
  test('touch marks a workspace used now; open touches it; removal tolerates missing parts', async () => {
    const dir = await tempDir('pantheon-touch-');
    try {
      const name = await makeWorkspace(dir.path, 'apollo', 9, daysAgo(5));
      const ws = new Workspaces(dir.path, 'apollo');
      const [found] = await listWorkspacesOnDisk(dir.path);
      assert.ok(Date.now() - found!.lastUsedAt.getTime() > 4 * DAY);
      await ws.open('acme/api#9');
      const [opened] = await listWorkspacesOnDisk(dir.path);
      assert.ok(Date.now() - opened!.lastUsedAt.getTime() < 60_000);

      // Without metadata, the checkout carries the mark.
      const bare = await makeWorkspace(dir.path, 'apollo', 10, daysAgo(5), { meta: false });
      await ws.touch(bare);
      assert.ok(Date.now() - (await stat(join(personaRoot(dir.path, 'apollo'), bare))).mtimeMs < 60_000);

      await removeWorkspace(dir.path, 'apollo', name);
      await removeWorkspace(dir.path, 'apollo', name);
      assert.deepEqual(await partsLeft(dir.path, 'apollo', name), []);
    } finally {
      await dir.remove();
    }
  });
});
