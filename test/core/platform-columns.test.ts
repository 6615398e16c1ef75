import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../core/log.js';
import { createDatabase, defaultMigrationsDir, migrate, type Database } from '../../core/db/index.js';
import { turnInfo, type TurnInfo } from '../../orchestrator/graph/state.js';

/**
 * The platform a message belongs to was once called its "channel" (a column of five tables, a
 * key of stored envelopes and outbound messages, a field of checkpointed turns). Migration 0016
 * renames them; what was stored before the upgrade must still be answered and delivered after.
 */
const logger = createLogger({ level: 'silent' });

describe('the platform rename keeps what was stored before it', () => {
  let root: string;
  let db: Database;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'pantheon-platform-cols-'));
    db = await createDatabase({ dataDir: join(root, 'data'), logger });
  });
  after(async () => {
    await db?.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('rows and stored envelopes from before migration 0016 read back with their platform', async () => {
    // The schema as it was: every migration before 0016.
    const older = join(root, 'older');
    const all = defaultMigrationsDir();
    mkdirSync(older);
    for (const f of readdirSync(all)) if (/^\d{4}_/.test(f) && f < '0016') copyFileSync(join(all, f), join(older, f));
    await migrate(db.pool, { dir: older, logger });

    const envelope = { id: 'in-1', channel: 'mattermost', threadId: 'mattermost:town', author: { id: 'u1', name: 'jeff' }, text: 'hi', receivedAt: new Date().toISOString() };
    await db.pool.query(`INSERT INTO inbound_messages (id, channel, conversation, author, text, payload) VALUES ('in-1', 'mattermost', 'mattermost:town', 'jeff', 'hi', $1)`, [
      JSON.stringify(envelope),
    ]);
    const outbound = { idempotencyKey: 'k1', channel: 'slack', threadId: 'slack:T1:C1', role: 'agent', persona: 'apollo', text: 'on it' };
    await db.pool.query(`INSERT INTO outbox (idempotency_key, channel, conversation, persona, payload) VALUES ('k1', 'slack', 'slack:T1:C1', 'apollo', $1)`, [JSON.stringify(outbound)]);
    await db.pool.query(
      `INSERT INTO work_items (kind, title, origin_thread, origin_channel, requested_by, state) VALUES ('chat_request', 'Rate limits', 'telegram:42', 'telegram', 'jeff', 'requested')`,
    );

    const applied = await migrate(db.pool, { logger });
    assert.equal(applied[0]?.name, 'platform_columns', 'the rename runs first; later migrations follow it');

    const { rows: inbound } = await db.pool.query<{ platform: string; payload: Record<string, unknown> }>(`SELECT platform, payload FROM inbound_messages WHERE id = 'in-1'`);
    assert.equal(inbound[0]!.platform, 'mattermost');
    assert.equal(inbound[0]!.payload.platform, 'mattermost');
    assert.equal('channel' in inbound[0]!.payload, false);
    const { rows: out } = await db.pool.query<{ platform: string; payload: Record<string, unknown> }>(`SELECT platform, payload FROM outbox WHERE idempotency_key = 'k1'`);
    assert.deepEqual([out[0]!.platform, out[0]!.payload.platform, out[0]!.payload.text], ['slack', 'slack', 'on it']);
    const { rows: items } = await db.pool.query<{ origin_platform: string }>(`SELECT origin_platform FROM work_items WHERE title = 'Rate limits'`);
    assert.equal(items[0]!.origin_platform, 'telegram');
    for (const table of ['approvals', 'infra_jobs']) {
      const { rows } = await db.pool.query(`SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND column_name IN ('channel', 'platform')`, [table]);
      assert.deepEqual(
        rows.map((r) => r.column_name),
        ['platform'],
        table,
      );
    }
  });

  test('a turn checkpointed before the rename answers on its platform', () => {
    const legacy = { inboundIds: ['in-1'], channel: 'discord', threadId: 'discord:10:20', requestedBy: 'jeff' } as unknown as TurnInfo;
    assert.equal(turnInfo(legacy)!.platform, 'discord');
    const current: TurnInfo = { inboundIds: ['in-2'], platform: 'slack', threadId: 'slack:T1:C1', requestedBy: 'jeff' };
    assert.equal(turnInfo(current), current);
    assert.equal(turnInfo(null), null);
  });
});
