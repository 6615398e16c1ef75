import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { AuditLog } from '../../core/audit/index.js';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { createLogger, registerSecret } from '../../core/log.js';
import { tempDir } from '../support/pantheon-process.js';
import { createTestDatabase, postgresSkip } from '../support/postgres.js';

const logger = createLogger({ level: 'silent' });

/** Tests share one database and the log cannot be emptied: each uses its own persona names. */
const unique = (label: string) => `${label}-${randomUUID().slice(0, 6)}`;

function auditSuite(pool: () => pg.Pool): void {
  test('records a tool call with masked arguments and reads it back', async () => {
    const audit = new AuditLog(pool());
    registerSecret('registered-deploy-secret-42');
    const persona = unique('hephaestus');
    const entry = await audit.recordToolCall({
      persona,
      thread: 'local:ops',
      tool: 'ssh_exec',
      args: {
        host: 'staging-1',
        command: 'DEPLOY_KEY=registered-deploy-secret-42 ./deploy.sh',
        options: { env: { API_TOKEN: 'tok-123', region: 'eu' }, auth: { password: 'hunter2' } },
        passphrase: 'open sesame',
        extra: 'do not show',
      },
      secretArgNames: ['extra'],
      outcome: 'ok',
      approvalId: 'A-7',
      durationMs: 1234.6,
      detail: 'exit 0 with ghp_abcdefghijklmnopqrstuvwxyz012345 in output',
    });
    assert.equal(entry.kind, 'tool_call');
    assert.equal(entry.durationMs, 1235);
    assert.ok(entry.at instanceof Date);
    assert.equal(typeof entry.id, 'number');

    const [read] = await audit.query({ persona });
    assert.deepEqual(read.args, {
      host: 'staging-1',
      command: 'DEPLOY_KEY=[REDACTED] ./deploy.sh',
      options: { env: { API_TOKEN: '***', region: 'eu' }, auth: '***' },
      passphrase: '***',
      extra: '***',
    });
    assert.equal(read.detail, 'exit 0 with [REDACTED] in output');
    assert.equal(read.approvalId, 'A-7');
    assert.equal(read.outcome, 'ok');
    // Nothing secret reached the database in any column.
    const { rows } = await pool().query(`SELECT row_to_json(a)::text AS raw FROM audit_log a WHERE persona = $1`, [persona]);
    for (const secret of ['registered-deploy-secret-42', 'tok-123', 'hunter2', 'open sesame', 'do not show', 'ghp_abc']) {
      assert.ok(!rows[0].raw.includes(secret), `${secret} must not be stored`);
    }
  });

  test('records approval decisions with who decided', async () => {
    const audit = new AuditLog(pool());
    const persona = unique('hephaestus');
    await audit.recordDecision({ approvalId: 'A-8', persona, thread: 'telegram:1', tool: 'restart_service', actor: 'jeff', outcome: 'approved' });
    await audit.recordDecision({ approvalId: 'A-9', persona, thread: 'telegram:1', tool: 'drop_table', actor: 'jeff', outcome: 'denied_by_human', detail: 'not on a Friday' });
    const entries = await audit.query({ persona, kind: 'approval_decision' });
    assert.deepEqual(
      entries.map((e) => [e.approvalId, e.actor, e.outcome, e.args, e.durationMs, e.detail]),
      [
        ['A-9', 'jeff', 'denied_by_human', null, null, 'not on a Friday'],
        ['A-8', 'jeff', 'approved', null, null, null],
      ],
    );
    assert.deepEqual(
      (await audit.query({ approvalId: 'A-8', persona })).map((e) => e.tool),
      ['restart_service'],
    );
  });

  test('query filters by persona, tool, thread, kind, outcome and since, newest first, with a limit', async () => {
    const audit = new AuditLog(pool());
    const apollo = unique('apollo');
    const hermes = unique('hermes');
    const thread = unique('local:dev');
    const call = (persona: string, tool: string, outcome: string, t = thread) => audit.recordToolCall({ persona, thread: t, tool, args: { n: 1 }, outcome, durationMs: 5 });
    await call(apollo, 'github_create_pr', 'ok');
    await call(apollo, 'workspace_run', 'error');
    await call(hermes, 'github_create_pr', 'refused_by_policy');
    await call(hermes, 'workspace_run', 'ok', unique('local:elsewhere'));
    // The database keeps microseconds, a Date milliseconds: a midpoint read in the same millisecond
    // as the last insert would fall before it. A few milliseconds either side keep it between.
    await new Promise((r) => setTimeout(r, 5));
    const midpoint = new Date();
    await new Promise((r) => setTimeout(r, 5));
    await call(apollo, 'workspace_run', 'ok');
    await audit.recordDecision({ approvalId: 'A-1', persona: apollo, thread, tool: 'workspace_run', actor: 'jeff', outcome: 'approved' });

    const show = (entries: Array<{ persona: string | null; tool: string | null; outcome: string }>) => entries.map((e) => `${e.persona === apollo ? 'apollo' : 'hermes'} ${e.tool} ${e.outcome}`);
    assert.deepEqual(show(await audit.query({ persona: apollo })), ['apollo workspace_run approved', 'apollo workspace_run ok', 'apollo workspace_run error', 'apollo github_create_pr ok']);
    assert.deepEqual(show(await audit.query({ persona: apollo, kind: 'tool_call', tool: 'workspace_run' })), ['apollo workspace_run ok', 'apollo workspace_run error']);
    assert.deepEqual(show(await audit.query({ thread, tool: 'github_create_pr' })), ['hermes github_create_pr refused_by_policy', 'apollo github_create_pr ok']);
    assert.deepEqual(show(await audit.query({ thread, outcome: 'ok' })), ['apollo workspace_run ok', 'apollo github_create_pr ok']);
    assert.deepEqual(show(await audit.query({ thread, since: midpoint })), ['apollo workspace_run approved', 'apollo workspace_run ok']);
    assert.deepEqual(show(await audit.query({ thread, limit: 2 })), ['apollo workspace_run approved', 'apollo workspace_run ok']);
    assert.equal((await audit.query({ persona: hermes })).length, 2);
  });

  test('the log is append-only: UPDATE, DELETE and TRUNCATE are refused', async () => {
    const audit = new AuditLog(pool());
    const persona = unique('perseus');
    const entry = await audit.recordToolCall({ persona, thread: 'local:x', tool: 'github_review', args: {}, outcome: 'ok', durationMs: 1 });
    await assert.rejects(pool().query(`UPDATE audit_log SET outcome = 'error' WHERE id = $1`, [entry.id]), /audit_log is append-only: UPDATE is not allowed/);
    await assert.rejects(pool().query(`DELETE FROM audit_log WHERE id = $1`, [entry.id]), /audit_log is append-only: DELETE is not allowed/);
    await assert.rejects(pool().query(`TRUNCATE audit_log`), /audit_log is append-only: TRUNCATE is not allowed/);
    const [still] = await audit.query({ persona });
    assert.equal(still.outcome, 'ok');
    await assert.rejects(pool().query(`INSERT INTO audit_log (kind, outcome) VALUES ('something_else', 'ok')`), /check constraint/);
  });
}

describe('audit log on embedded PGlite', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let db: Database;
  before(async () => {
    dir = await tempDir('pantheon-audit-');
    db = await createDatabase({ dataDir: dir.path, logger });
    await migrate(db.pool, { logger });
  });
  after(async () => {
    await db?.close();
    await dir?.remove();
  });
  auditSuite(() => db.pool);
});

describe('audit log on PostgreSQL', { skip: postgresSkip }, () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;
  before(async () => {
    testDb = await createTestDatabase('audit');
    db = await createDatabase({ url: testDb.url, dataDir: '/nonexistent', logger });
    await migrate(db.pool, { logger });
  });
  after(async () => {
    await db?.close();
    await testDb?.drop();
  });
  auditSuite(() => db.pool);
});
