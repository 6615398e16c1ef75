import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { autoSharedBuffers } from '../../core/db/embedded.js';
import { createDatabase } from '../../core/db/index.js';
import { createLogger } from '../../core/log.js';

const MB = 1024 * 1024;
const GB = 1024 * MB;

function pgdataWith(files: Record<string, number>): string {
  const pgdata = join(mkdtempSync(join(tmpdir(), 'pantheon-buffers-')), 'pgdata');
  for (const [path, size] of Object.entries(files)) {
    mkdirSync(join(pgdata, 'base', path, '..'), { recursive: true });
    writeFileSync(join(pgdata, 'base', path), Buffer.alloc(size));
  }
  return pgdata;
}

test('shared buffers follow the data: 16 MB when new, the data plus a fifth when grown, capped', (t) => {
  const fresh = join(mkdtempSync(join(tmpdir(), 'pantheon-buffers-')), 'pgdata');
  t.after(() => rmSync(join(fresh, '..'), { recursive: true, force: true }));
  assert.deepEqual(autoSharedBuffers(fresh, 24 * GB), { mb: 16, dataMb: 0 }, 'no data yet');

  // template1 (1) and template0 (4) do not count; the application database (5) does.
  const grown = pgdataWith({ '1/1259': 40 * MB, '4/1259': 40 * MB, '5/16400': 300 * MB, '5/16401': 100 * MB });
  t.after(() => rmSync(join(grown, '..'), { recursive: true, force: true }));
  assert.deepEqual(autoSharedBuffers(grown, 24 * GB), { mb: 480, dataMb: 400 });
  assert.equal(autoSharedBuffers(grown, 1 * GB).mb, 256, 'at most a quarter of the machine');

  const huge = pgdataWith({ '5/16400': 2000 * MB });
  t.after(() => rmSync(join(huge, '..'), { recursive: true, force: true }));
  assert.equal(autoSharedBuffers(huge, 64 * GB).mb, 1024, 'at most 1 GB');
});

test('the embedded database starts with the buffers asked for, or sized to its data', async (t) => {
  const logger = createLogger({ level: 'silent' });
  const dir = mkdtempSync(join(tmpdir(), 'pantheon-buffers-db-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const show = async (sharedBuffers?: string) => {
    const db = await createDatabase({ dataDir: dir, logger, sharedBuffers });
    try {
      const c = new pg.Client(db.url);
      await c.connect();
      try {
        return (await c.query<{ shared_buffers: string }>('SHOW shared_buffers')).rows[0].shared_buffers;
      } finally {
        await c.end();
      }
    } finally {
      await db.close();
    }
  };
  assert.equal(await show(), '16MB', 'a new database: the floor');
  assert.equal(await show('48MB'), '48MB', 'database.sharedBuffers: an explicit size');
});
