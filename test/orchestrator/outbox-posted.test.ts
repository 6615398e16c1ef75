import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlatformAdapter, OutboundMessage, PostResult } from '../../core/chat/types.js';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { createLogger } from '../../core/log.js';
import { MemoryQueue } from '../../core/queue/index.js';
import { Outbox } from '../../orchestrator/outbox.js';
import { tempDir } from '../support/pantheon-process.js';

const logger = createLogger({ level: 'silent' });

class RecordingAdapter implements PlatformAdapter {
  readonly posts: OutboundMessage[] = [];
  readonly edits: string[] = [];
  constructor(
    readonly name: string,
    readonly durablePost = false,
  ) {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async post(message: OutboundMessage): Promise<PostResult> {
    this.posts.push(message);
    return { id: `m${this.posts.length}`, url: `https://chat.example/${this.name}/m${this.posts.length}` };
  }
  async edit(_threadId: string, messageId: string): Promise<void> {
    this.edits.push(messageId);
  }
  encodeThreadId(): string {
    return `${this.name}:t`;
  }
  decodeThreadId(): Record<string, string> {
    return {};
  }
}

const said = (key: string, platform = 'chat', extra: Partial<OutboundMessage> = {}): OutboundMessage => ({
  idempotencyKey: key,
  platform,
  threadId: `${platform}:t`,
  role: 'agent',
  persona: 'apollo',
  text: key,
  ...extra,
});

/** The outbox's after-post hook (`onPosted`): what the GitHub ledger sync listens to. */
describe('outbox after-post hook', () => {
  let db: Database;
  let dir: { path: string; remove: () => Promise<void> };
  let outbox: Outbox;
  let chat: RecordingAdapter;
  let local: RecordingAdapter;
  const heard: Array<{ key: string; result: PostResult; status?: string }> = [];
  const status = async (key: string) => (await db.pool.query<{ status: string }>('SELECT status FROM outbox WHERE idempotency_key = $1', [key])).rows[0]?.status;

  before(async () => {
    dir = await tempDir('pantheon-outbox-posted-');
    db = await createDatabase({ dataDir: dir.path, logger });
    await migrate(db.pool, { logger });
    outbox = new Outbox({ pool: db.pool, queue: new MemoryQueue({ logger }), logger });
    chat = new RecordingAdapter('chat');
    local = new RecordingAdapter('local', true);
    outbox.register(chat);
    outbox.register(local);
    outbox.onPosted(async () => {
      throw new Error('a broken listener');
    });
    outbox.onPosted(async (message, result) => {
      heard.push({ key: message.idempotencyKey, result, status: await status(message.idempotencyKey) });
    });
  });
  after(async () => {
    await db?.close();
    await dir?.remove();
  });

  test("a delivered post is told with the adapter's answer, before it is marked sent; a failing listener fails nothing", async () => {
    const message = said('k-1');
    await outbox.send(message);
    await outbox.deliver(message);
    assert.deepEqual(heard.at(-1), { key: 'k-1', result: { id: 'm1', url: 'https://chat.example/chat/m1' }, status: 'pending' });
    assert.equal(await status('k-1'), 'sent');
  });

  test('a durable post (the local chat) is told too', async () => {
    const before = heard.length;
    await outbox.send(said('k-local', 'local'));
    assert.equal(local.posts.length, 1);
    assert.deepEqual(
      heard.slice(before).map((h) => [h.key, h.result.id]),
      [['k-local', 'm1']],
    );
  });

  test('an edit in place is not a post: nobody is told', async () => {
    const before = heard.length;
    const edit = said('k-1-edit', 'chat', { replaces: 'k-1', text: 'edited' });
    await outbox.send(edit);
    await outbox.deliver(edit);
    assert.deepEqual(chat.edits, ['m1']);
    assert.equal(heard.length, before);
  });
});
