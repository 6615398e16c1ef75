import { createDatabase, migrate } from '../../core/db/index.js';
import { createLogger } from '../../core/log.js';
import { WorkLedger } from '../../ledger/ledger.js';
import { LexicalEmbedder, MemoryStore } from '../../memory/index.js';
import { ChatStore } from '../../platforms/local/store.js';

/** What `seedDataDir` wrote, to be read back later. */
export interface Seeded {
  workItemId: string;
  memoryId: string;
  conversation: string;
}

/** Creates and migrates an embedded data dir ahead of the process, so its start is short (tests whose clock runs to a minute). */
export async function migratedDataDir(dataDir: string): Promise<void> {
  const logger = createLogger({ level: 'silent' });
  const db = await createDatabase({ dataDir, logger });
  try {
    await migrate(db.pool, { logger });
  } finally {
    await db.close();
  }
}

/**
 * Fills an embedded data dir (created and migrated if new) with one conversation, one team
 * memory and one work item in flight, then closes it again so a `pantheon` process can open it.
 */
export async function seedDataDir(dataDir: string): Promise<Seeded> {
  const logger = createLogger({ level: 'silent' });
  const db = await createDatabase({ dataDir, logger });
  try {
    await migrate(db.pool, { logger });
    const conversation = 'planning';
    const chat = new ChatStore(db.pool);
    await chat.append({ id: 'seed-1', conversation, role: 'user', author: 'alice', text: '@athena we need rate limiting on the API' });
    await chat.append({ id: 'seed-2', conversation, role: 'agent', author: 'athena', persona: 'athena', text: 'Filed it; apollo is on it.' });
    const memory = await new MemoryStore(db.pool, new LexicalEmbedder()).remember({
      scope: 'team',
      kind: 'decision',
      content: 'Rate limiting uses a Redis token bucket, 100 requests per minute.',
      source: 'local:planning',
      author: 'athena',
    });
    const item = await new WorkLedger(db.pool).create({
      kind: 'chat_request',
      title: 'Rate limiting on the API',
      originThread: 'local:planning',
      requestedBy: 'alice',
      owner: 'apollo',
      state: 'in_progress',
      actor: 'athena',
    });
    return { workItemId: item.id, memoryId: memory.id, conversation };
  } finally {
    await db.close();
  }
}
