import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { AuditLog, type AuditEntry } from '../../core/audit/index.js';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { createHttpServer, listen } from '../../core/http/index.js';
import { createLogger } from '../../core/log.js';
import { createMetrics } from '../../core/metrics.js';
import { registerConsoleRoutes, WorkLedger, type WorkItem } from '../../ledger/index.js';
import { cleanEnv, runCli, tempDir } from '../support/pantheon-process.js';

const logger = createLogger({ level: 'silent' });

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

/** Fills a data dir with a known history, through the real classes. */
async function fill(db: Database): Promise<{ items: Record<string, WorkItem> }> {
  const audit = new AuditLog(db.pool);
  // An entry from three hours ago (inserting is allowed; changing is not).
  await db.pool.query(
    `INSERT INTO audit_log (at, kind, persona, thread, tool, args, outcome, duration_ms)
     VALUES (now() - interval '3 hours', 'tool_call', 'athena', 'local:general', 'github_create_issue', '{"title":"Rate limiting"}', 'ok', 420)`,
  );
  await audit.recordToolCall({
    persona: 'apollo',
    thread: 'local:general',
    tool: 'workspace_run',
    args: { command: 'npm test', env: { NPM_TOKEN: 'npm_secret_value' } },
    outcome: 'ok',
    durationMs: 1530,
  });
  await audit.recordToolCall({ persona: 'hermes', thread: 'local:dev', tool: 'github_push', args: { branch: 'fix-login' }, outcome: 'error', durationMs: 80, detail: 'remote rejected' });
  await audit.recordDecision({ approvalId: 'A-3', persona: 'hephaestus', thread: 'telegram:42', tool: 'ssh_exec', actor: 'jeff', outcome: 'approved' });
  await audit.recordToolCall({
    persona: 'hephaestus',
    thread: 'telegram:42',
    tool: 'ssh_exec',
    args: { host: 'staging-1', command: 'systemctl restart api', password: 'hunter2' },
    outcome: 'ok',
    approvalId: 'A-3',
    durationMs: 65_000,
  });

  const ledger = new WorkLedger(db.pool);
  const rate = await ledger.create({
    kind: 'issue',
    title: 'Add rate limiting',
    originThread: 'local:general',
    originPlatform: 'local',
    requestedBy: 'jeff',
    owner: 'apollo',
    externalRef: 'gh:acme/api#12',
    actor: 'athena',
  });
  await ledger.transition(rate.id, 'in_progress', { actor: 'apollo', note: 'branch created' });
  await ledger.addReviewer(rate.id, 'artemis', 'apollo');
  const restart = await ledger.create({ kind: 'job', title: 'Restart staging api', originThread: 'telegram:42', owner: 'hephaestus', actor: 'athena' });
  await ledger.transition(restart.id, 'done', { actor: 'hephaestus' });
  const login = await ledger.create({ kind: 'pull_request', title: 'Fix login', originThread: 'local:dev', owner: 'hermes', actor: 'hermes' });
  await ledger.recordProgress(rate.id, { actor: 'apollo', text: 'tests pass' });
  return { items: { rate: (await ledger.get(rate.id))!, restart, login } };
}

describe('pantheon audit and pantheon work', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let items: Record<string, WorkItem>;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dir = await tempDir('pantheon-audit-cli-');
    const db = await createDatabase({ dataDir: dir.path, logger });
    try {
      await migrate(db.pool, { logger });
      ({ items } = await fill(db));
    } finally {
      await db.close();
    }
    // No server answers on PORT: the commands open the data dir themselves.
    env = cleanEnv({ PORT: String(await unusedPort()) });
  });
  after(async () => {
    await dir?.remove();
  });

  it('audit prints a table, newest first, with masked arguments', async () => {
    const { code, stdout, stderr } = await runCli(['audit', '--data-dir', dir.path], { env });
    assert.equal(code, 0, stderr);
    const lines = stdout.trimEnd().split('\n');
    assert.match(lines[0], /^TIME\s+PERSONA\s+TOOL\s+OUTCOME\s+APPROVAL\s+DURATION\s+ARGS$/);
    assert.equal(lines.length, 6);
    assert.match(lines[1], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+hephaestus\s+ssh_exec\s+ok\s+A-3\s+1m05s\s+\{"host":"staging-1","command":"systemctl restart api","password":"\*\*\*"\}$/);
    assert.match(lines[2], /hephaestus\s+ssh_exec\s+approved\s+A-3 by jeff\s+-\s+-$/);
    assert.match(lines[3], /hermes\s+github_push\s+error\s+-\s+80ms\s+\{"branch":"fix-login"\} — remote rejected$/);
    assert.match(lines[4], /apollo\s+workspace_run\s+ok\s+-\s+1\.5s\s+\{"env":\{"NPM_TOKEN":"\*\*\*"\},"command":"npm test"\}$/, 'jsonb keeps keys shortest first');
    assert.match(lines[5], /athena\s+github_create_issue\s+ok\s+-\s+420ms/);
    assert.ok(!stdout.includes('hunter2') && !stdout.includes('npm_secret_value'));
    // Columns line up: every row's PERSONA starts where the header's does.
    const personaAt = lines[0].indexOf('PERSONA');
    for (const line of lines.slice(1)) assert.match(line.slice(personaAt), /^(hephaestus|hermes|apollo|athena) /);
  });

  it('audit --json prints one entry per line, filtered', async () => {
    const { code, stdout, stderr } = await runCli(['audit', '--data-dir', dir.path, '--json', '--thread', 'local:general', '--since', '2h'], { env });
    assert.equal(code, 0, stderr);
    const entries = jsonLines<AuditEntry>(stdout);
    assert.deepEqual(
      entries.map((e) => [e.persona, e.tool, e.durationMs]),
      [['apollo', 'workspace_run', 1530]],
      'the 3-hour-old entry is left out',
    );
    assert.deepEqual(entries[0].args, { command: 'npm test', env: { NPM_TOKEN: '***' } });
    assert.ok(!Number.isNaN(Date.parse(String(entries[0].at))));
  });

  it('audit refuses a --since or --kind it cannot read, with exit code 2', async () => {
    const since = await runCli(['audit', '--data-dir', dir.path, '--since', 'yesterday'], { env });
    assert.equal(since.code, 2);
    assert.match(since.stderr, /--since: cannot read the time "yesterday": use a duration back from now \(30m, 2h, 7d, 1w\)/);
    const kind = await runCli(['audit', '--data-dir', dir.path, '--kind', 'everything'], { env });
    assert.equal(kind.code, 2);
    assert.match(kind.stderr, /--kind: unknown kind "everything": use tool_call or approval_decision/);
  });

  it('refuses a data dir where nothing has run, instead of creating a database there', async () => {
    const empty = await tempDir('pantheon-audit-empty-');
    try {
      const { code, stderr } = await runCli(['work', '--data-dir', empty.path], { env });
      assert.equal(code, 1);
      assert.match(stderr, /no Pantheon database in .*pantheon-audit-empty-.* \(nothing has run there yet\)\. Pass the --data-dir that `pantheon start` uses, or --url of a running server\./);
      assert.deepEqual(await readdir(empty.path), []);
    } finally {
      await empty.remove();
    }
  });

  it('work lists what is in flight, --all everything, and shows one item with its history', async () => {
    const inFlight = await runCli(['work', '--data-dir', dir.path], { env });
    assert.equal(inFlight.code, 0, inFlight.stderr);
    const [table, usage] = inFlight.stdout.split('\n\n');
    assert.match(usage!, /^Model usage since \d{4}-\d\d-\d\d 00:00 UTC: none\.\n$/);
    const lines = table!.trimEnd().split('\n');
    assert.match(lines[0], /^ID\s+STATE\s+OWNER\s+KIND\s+UPDATED\s+THREAD\s+TITLE$/);
    assert.equal(lines.length, 3, inFlight.stdout);
    assert.match(lines[1], new RegExp(`^${items.rate.id}\\s+in_progress\\s+apollo\\s+issue\\s+just now\\s+local:general\\s+Add rate limiting \\[gh:acme/api#12\\]$`));
    assert.match(lines[2], new RegExp(`^${items.login.id}\\s+requested\\s+hermes\\s+pull_request\\s+just now\\s+local:dev\\s+Fix login$`));

    const all = await runCli(['work', '--data-dir', dir.path, '--all', '--json'], { env });
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(
      jsonLines<WorkItem>(all.stdout).map((i) => [i.id, i.state]),
      [
        [items.rate.id, 'in_progress'],
        [items.login.id, 'requested'],
        [items.restart.id, 'done'],
      ],
    );

    const one = await runCli(['work', `#${items.rate.id.slice(2)}`, '--data-dir', dir.path], { env });
    assert.equal(one.code, 0, one.stderr);
    assert.match(
      one.stdout,
      new RegExp(`^${items.rate.id}  Add rate limiting  \\[gh:acme/api#12\\]\n  state: in_progress   kind: issue   owner: apollo   reviewers: artemis\n  asked by jeff in local:general at `),
    );
    const events = one.stdout.split('\n').filter((l) => /^\d{4}-/.test(l));
    assert.deepEqual(
      events.map((l) => l.replace(/^\S+ \S+\s+/, '').replace(/\s+/g, ' ')),
      ['athena created issue "Add rate limiting" (requested)', 'apollo state_changed requested → in_progress: branch created', 'apollo reviewer_added artemis', 'apollo progress tests pass'],
    );

    const missing = await runCli(['work', 'W-999', '--data-dir', dir.path], { env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no work item W-999; `pantheon work --all` lists them/);
  });

  describe('through a running server', () => {
    let db: Database;
    let http: FastifyInstance;
    let url: string;
    let port: number;
    const token = 'console-token-for-audit-tests';

    before(async () => {
      // This process now owns the data dir: the CLI can only read it over HTTP.
      db = await createDatabase({ dataDir: dir.path, logger });
      http = createHttpServer({ logger, metrics: createMetrics(), bodyLimitBytes: 1 << 20, consoleToken: token, ready: () => true });
      registerConsoleRoutes(http, { audit: new AuditLog(db.pool), ledger: new WorkLedger(db.pool), pool: db.pool });
      ({ url, port } = await listen(http, { host: '127.0.0.1', port: 0 }));
    });
    after(async () => {
      await http?.close();
      await db?.close();
    });

    it('audit and work read over the API with the console token', async () => {
      const withToken = cleanEnv({ PANTHEON_CONSOLE_TOKEN: token, PORT: env.PORT });
      const audit = await runCli(['audit', '--url', url, '--json', '--persona', 'hephaestus', '--since', '1h'], { env: withToken });
      assert.equal(audit.code, 0, audit.stderr);
      assert.deepEqual(
        jsonLines<AuditEntry>(audit.stdout).map((e) => [e.kind, e.outcome, e.approvalId]),
        [
          ['tool_call', 'ok', 'A-3'],
          ['approval_decision', 'approved', 'A-3'],
        ],
      );

      const table = await runCli(['audit', '--url', url, '--tool', 'github_push'], { env: withToken });
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /hermes\s+github_push\s+error\s+-\s+80ms/);

      const work = await runCli(['work', '--url', url, '--all', '--json'], { env: withToken });
      assert.equal(work.code, 0, work.stderr);
      assert.equal(jsonLines<WorkItem>(work.stdout).length, 3);
      const owned = await runCli(['work', '--url', url, '--json', '--owner', 'hermes'], { env: withToken });
      assert.deepEqual(
        jsonLines<WorkItem>(owned.stdout).map((i) => i.title),
        ['Fix login'],
      );
      const none = await runCli(['work', '--url', url, '--thread', 'local:nowhere'], { env: withToken });
      assert.match(none.stdout, /^Nothing in flight\.\n\nModel usage since \d{4}-\d\d-\d\d 00:00 UTC: none\.\n$/, 'and the usage over GET /api/usage');
      const one = await runCli(['work', items.login.id, '--url', url], { env: withToken });
      assert.match(one.stdout, /Fix login\n  state: requested/);
      const missing = await runCli(['work', 'W-999', '--url', url], { env: withToken });
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /no work item W-999/);
    });

    it('audit filters by persona, kind, tool, outcome, thread, since and limit', async () => {
      const withToken = cleanEnv({ PANTHEON_CONSOLE_TOKEN: token, PORT: env.PORT });
      const run = async (...args: string[]) => {
        const { code, stdout, stderr } = await runCli(['audit', '--url', url, '--json', ...args], { env: withToken });
        assert.equal(code, 0, stderr);
        return jsonLines<AuditEntry>(stdout);
      };
      assert.deepEqual(
        (await run('--persona', 'hermes')).map((e) => [e.persona, e.tool, e.outcome, e.detail]),
        [['hermes', 'github_push', 'error', 'remote rejected']],
      );
      assert.deepEqual(
        (await run('--kind', 'approval_decision')).map((e) => [e.approvalId, e.actor, e.outcome]),
        [['A-3', 'jeff', 'approved']],
      );
      assert.deepEqual(
        (await run('--tool', 'ssh_exec', '--outcome', 'ok')).map((e) => [e.kind, e.approvalId]),
        [['tool_call', 'A-3']],
      );
      assert.deepEqual(
        (await run('--thread', 'local:general')).map((e) => e.persona),
        ['apollo', 'athena'],
      );
      assert.deepEqual(
        (await run('--thread', 'local:general', '--since', '2h')).map((e) => e.persona),
        ['apollo'],
      );
      assert.deepEqual(
        (await run('--limit', '2')).map((e) => e.tool),
        ['ssh_exec', 'ssh_exec'],
      );
      assert.equal((await runCli(['audit', '--url', url, '--persona', 'nobody'], { env: withToken })).stdout, 'No audit entries match.\n');
    });

    it('finds the server on PORT without --url', async () => {
      const local = cleanEnv({ PANTHEON_CONSOLE_TOKEN: token, PORT: String(port) });
      const { code, stdout, stderr } = await runCli(['work', '--json', '--owner', 'apollo', '--data-dir', dir.path], { env: local });
      assert.equal(code, 0, stderr);
      assert.deepEqual(
        jsonLines<WorkItem>(stdout).map((i) => i.id),
        [items.rate.id],
      );
    });

    it('says what to set when the token is missing or wrong', async () => {
      const missing = await runCli(['audit', '--url', url, '--data-dir', dir.path], { env: cleanEnv() });
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /the server needs a console token; set PANTHEON_CONSOLE_TOKEN/);
      const wrong = await runCli(['work', '--url', url], { env: cleanEnv({ PANTHEON_CONSOLE_TOKEN: 'nope' }) });
      assert.match(wrong.stderr, /the server refused the console token; check PANTHEON_CONSOLE_TOKEN/);
    });

    it('the API answers 404 and 400 in the usual error shape', async () => {
      const auth = { authorization: `Bearer ${token}` };
      const notFound = await fetch(`${url}/api/work/W-999`, { headers: auth });
      assert.equal(notFound.status, 404);
      const body = (await notFound.json()) as { error: { code: string; message: string; requestId: string } };
      assert.equal(body.error.code, 'not_found');
      assert.equal(body.error.message, 'no work item W-999');
      assert.ok(body.error.requestId);

      const bad = await fetch(`${url}/api/audit?kind=everything`, { headers: auth });
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'bad_request');
      const badSince = await fetch(`${url}/api/audit?since=whenever`, { headers: auth });
      assert.match(((await badSince.json()) as { error: { message: string } }).error.message, /since: cannot read the time "whenever"/);

      const detail = (await (await fetch(`${url}/api/work/${items.rate.id}`, { headers: auth })).json()) as { item: WorkItem; events: Array<{ kind: string }> };
      assert.equal(detail.item.title, 'Add rate limiting');
      assert.deepEqual(
        detail.events.map((e) => e.kind),
        ['created', 'state_changed', 'reviewer_added', 'progress'],
      );
      assert.equal((await fetch(`${url}/api/audit`)).status, 401);
    });
  });
});
