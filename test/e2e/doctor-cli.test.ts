import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createDatabase, migrate } from '../../core/db/index.js';
import { createLogger } from '../../core/log.js';
import { WorkLedger } from '../../ledger/index.js';
import { personaRoot, workspaceHome } from '../../tools/workspace/naming.js';
import { Workspaces } from '../../tools/workspace/workspaces.js';
import type { DoctorReport } from '../../cli/doctor.js';
import { cleanEnv, modelEnv, runCli, startPantheonProcess, tempDir } from '../support/pantheon-process.js';

const logger = createLogger({ level: 'silent' });
const MB = 1024 * 1024;

const unusedPort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** A workspace whose checkout holds `mb` megabytes, cloned for `owner/repo#issue`. */
async function workspace(dataDir: string, persona: string, owner: string, repo: string, issue: number, mb: number): Promise<void> {
  const name = `${owner}-${repo}-${issue}`;
  const checkout = join(personaRoot(dataDir, persona), name);
  await mkdir(join(checkout, '.git'), { recursive: true });
  await mkdir(workspaceHome(dataDir, persona, name), { recursive: true });
  await writeFile(join(checkout, 'data.bin'), randomBytes(mb * MB));
  await new Workspaces(dataDir, persona).saveMeta(name, { owner, repo, issue, branch: `pantheon/${persona}/${issue}-x`, defaultBranch: 'main', cloneUrl: `https://github.com/${owner}/${repo}.git` });
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The ✖ or ✔ a report must end with, given its lines. */
function expectedExit(stdout: string): number {
  return /^ {2}✖ /m.test(stdout) ? 1 : 0;
}

describe('pantheon doctor', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let dataDir: string;
  let config: string;
  let itemId: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dir = await tempDir('pantheon-doctor-');
    dataDir = join(dir.path, 'data');
    config = join(dir.path, 'pantheon.yaml');
    await writeFile(config, ['workspaces:', '  retentionDays: 7', '  quotaMb: 2', 'sandbox:', '  backend: none', ''].join('\n'));
    const db = await createDatabase({ dataDir, logger });
    try {
      await migrate(db.pool, { logger });
      const ledger = new WorkLedger(db.pool);
      const item = await ledger.create({ kind: 'issue', title: 'Rate limiting', externalRef: 'github:acme/api#12', owner: 'apollo', actor: 'athena' });
      await ledger.transition(item.id, 'done', { actor: 'jeff' });
      await db.pool.query(`UPDATE work_item_events SET at = at - interval '3 days' WHERE work_item_id = $1`, [item.id]);
      itemId = item.id;
    } finally {
      await db.close();
    }
    await workspace(dataDir, 'apollo', 'acme', 'api', 12, 1);
    await workspace(dataDir, 'hermes', 'acme', 'web', 5, 3);
    env = cleanEnv({ PORT: String(await unusedPort()) });
  });
  after(async () => dir?.remove());

  it('reports each section, the disk use of every workspace against its quota, and exits by what it found', async () => {
    const { code, stdout, stderr } = await runCli(['doctor', '--config', config, '--data-dir', dataDir], { env, timeoutMs: 60_000 });
    assert.equal(code, expectedExit(stdout), `${stdout}\n${stderr}`);
    const lines = stdout.split('\n');
    for (const title of ['Configuration', 'Data dir', 'Database', 'Sandbox', 'Workspaces']) assert.ok(lines.includes(title), `section ${title}\n${stdout}`);
    assert.ok(lines.includes(`  ✔ config: ${config}`), stdout);
    assert.match(stdout, /^ {2}✔ personas: 6 \(the built-in sample team\)/m);
    assert.ok(lines.includes(`  ✔ data dir: ${dataDir} (private, 0700)`), stdout);
    assert.ok(lines.includes(`  ✔ database: embedded (PGlite) in ${join(dataDir, 'pgdata')}, not in use`), stdout);
    // The kernel lock (not a pid file a dead owner leaves behind) and whether anyone holds it.
    assert.match(stdout, new RegExp(`^ {2}✔ data dir lock: kernel lock \\((fcntl OFD lock|flock|LockFileEx)\\) on ${escapeRegExp(join(dataDir, 'pgdata.lock'))}, free$`, 'm'));
    // Whatever this host's sandbox comes to, doctor says so in one line.
    assert.match(stdout, /^ {2}(✔|✖) sandbox: \S.*$/m);
    assert.ok(lines.includes('  ⚠ workspaces: 2, 4 MB in all, 1 over quota (quota 2 MB each; removed 7 days after their work item ends)'), stdout);
    assert.ok(lines.includes(`  ✔ apollo/acme-api-12  1 MB of 2 MB quota  (issue acme/api#12, work item ${itemId} done 3 days ago → removed in 4 days)`), stdout);
    assert.ok(lines.includes('  ⚠ hermes/acme-web-5  3 MB of 2 MB quota — over quota: commands are refused in it  (issue acme/web#5, no work item, last used just now → removed in 7 days)'), stdout);
    assert.match(lines.at(-2)!, code === 0 ? /^✔ no problems \(\d+ warnings?\)$/ : /^✖ \d+ problems?, \d+ warnings?$/);
  });

  it('--json prints the same facts and the workspaces as one JSON object', async () => {
    const { code, stdout, stderr } = await runCli(['doctor', '--json', '--config', config, '--data-dir', dataDir], { env, timeoutMs: 60_000 });
    const report = JSON.parse(stdout) as DoctorReport;
    assert.equal(code, report.ok ? 0 : 1, stderr);
    assert.deepEqual(
      report.sections.map((s) => s.title),
      ['Configuration', 'Data dir', 'Database', 'Redis', 'Sandbox', 'Workspaces', 'Models', 'Platforms'],
    );
    assert.equal(report.ok, !report.sections.some((s) => s.facts.some((f) => f.mark === 'fail')));
    const [api, web] = report.workspaces;
    assert.deepEqual([api!.persona, api!.name, api!.issue, api!.overQuota, api!.quotaBytes], ['apollo', 'acme-api-12', 'acme/api#12', false, 2 * MB]);
    assert.ok(api!.bytes >= MB && api!.bytes < MB + 64 * 1024, String(api!.bytes));
    assert.deepEqual([api!.workItem?.id, api!.workItem?.state], [itemId, 'done']);
    assert.deepEqual([web!.name, web!.overQuota, web!.workItem], ['acme-web-5', true, undefined]);
  });

  it('a database that does not answer is a problem: exit 1', async () => {
    const down = join(dir.path, 'down.yaml');
    await writeFile(down, `database:\n  url: postgres://pantheon@127.0.0.1:${await unusedPort()}/pantheon\n`);
    const { code, stdout, stderr } = await runCli(['doctor', '--config', down, '--data-dir', dataDir], { env, timeoutMs: 60_000 });
    assert.equal(code, 1, `${stdout}\n${stderr}`);
    assert.match(stdout, /^ {2}✖ database: PostgreSQL at 127\.0\.0\.1:\d+\/pantheon does not answer: .+$/m);
    // Work items cannot be read then; the workspaces are still listed.
    assert.match(stdout, /^ {2}⚠ work items: cannot be read \(the database does not answer\)/m);
    assert.match(stdout, /^ {2}✔ apollo\/acme-api-12 {2}1 MB of 4 GB quota {2}\(issue acme\/api#12, work item unknown \(the ledger cannot be read\), last used just now\)$/m);
  });

  it('a configuration error exits 2 with the usual message', async () => {
    const bad = join(dir.path, 'bad.yaml');
    await writeFile(bad, 'workspaces:\n  quotaMb: -5\n');
    const { code, stdout, stderr } = await runCli(['doctor', '--config', bad, '--data-dir', dataDir], { env });
    assert.equal(code, 2, stdout);
    assert.match(stderr, /^pantheon: configuration error: .*bad\.yaml.*workspaces\.quotaMb/m);
  });

  it('while a server owns the embedded database, work items come from that server; the server cleans up at start', async () => {
    // Nobody's work, unused for a month: `pantheon start` removes it in its first clean-up.
    await workspace(dataDir, 'hermes', 'acme', 'old', 1, 1);
    const month = new Date(Date.now() - 30 * 24 * 3600_000);
    for (const p of [join(personaRoot(dataDir, 'hermes'), 'acme-old-1'), workspaceHome(dataDir, 'hermes', 'acme-old-1'), join(personaRoot(dataDir, 'hermes'), '.pantheon', 'acme-old-1.json')])
      await utimes(p, month, month);
    const server = await startPantheonProcess({ env: modelEnv({ openaiBaseUrl: 'http://127.0.0.1:9/v1' }), dataDir, args: ['--config', config] });
    try {
      const deadline = Date.now() + 10_000;
      while (!server.stdout().includes('removed workspace hermes/acme-old-1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.match(server.stdout(), /removed workspace hermes\/acme-old-1 \(no work item, last used 30 days ago; kept 7 days\): 1 MB freed/);
      assert.equal(existsSync(join(personaRoot(dataDir, 'hermes'), 'acme-old-1')), false);
      const { code, stdout, stderr } = await runCli(['doctor', '--config', config, '--data-dir', dataDir, '--url', server.url], { env, timeoutMs: 60_000 });
      assert.equal(code, expectedExit(stdout), `${stdout}\n${stderr}`);
      assert.match(stdout, new RegExp(`^ {2}✔ database: embedded \\(PGlite\\) in .*, in use by the running Pantheon \\(pid ${server.child.pid}\\)$`, 'm'));
      assert.match(stdout, new RegExp(`^ {2}✔ data dir lock: kernel lock \\(.+\\) on ${escapeRegExp(join(dataDir, 'pgdata.lock'))}, held by a running Pantheon \\(pid ${server.child.pid}\\)$`, 'm'));
      assert.ok(stdout.includes(`  ✔ apollo/acme-api-12  1 MB of 2 MB quota  (issue acme/api#12, work item ${itemId} done 3 days ago → removed in 4 days)`), stdout);
    } finally {
      await server.stop();
    }
  });
});
