import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { createLogger } from '../../core/log.js';
import { LexicalEmbedder, MemoryStore } from '../../memory/index.js';
import { memoryTools } from '../../memory/tools/index.js';
import type { PantheonTool, ToolCall, ToolContext } from '../../tools/types.js';
import { tempDir } from '../support/pantheon-process.js';

const logger = createLogger({ level: 'silent' });
let callSeq = 0;

/** One persona's memory tools, called the way the guard calls them (arguments through the schema). */
function persona(store: MemoryStore, id: string) {
  const ctx: ToolContext = { persona: { id, name: id, role: 'developer' }, credentials: { chat: {} }, outbox: { send: async () => ({ queued: true }) } };
  const tools = new Map(memoryTools({ store })(ctx).map((t) => [t.name, t]));
  return async (name: string, args: Record<string, unknown>, thread: string, callId = `call_${++callSeq}`): Promise<string> => {
    const tool = tools.get(name) as PantheonTool;
    const call: ToolCall = { id: callId, threadId: thread, platform: thread.split(':')[0]!, persona: id, runId: `run-${callSeq}` };
    return tool.run(tool.schema.parse(args), call);
  };
}

const idIn = (answer: string) => /Remembered as (\S+) /.exec(answer)?.[1] ?? assert.fail(`no id in: ${answer}`);

describe('memory tools', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let db: Database;
  let store: MemoryStore;
  let apollo: ReturnType<typeof persona>;
  let hermes: ReturnType<typeof persona>;

  before(async () => {
    dir = await tempDir('pantheon-memory-tools-');
    db = await createDatabase({ dataDir: dir.path, logger });
    await migrate(db.pool, { logger });
    store = new MemoryStore(db.pool, new LexicalEmbedder());
    await store.init();
    apollo = persona(store, 'apollo');
    hermes = persona(store, 'hermes');
  });
  after(async () => {
    await db?.close();
    await dir?.remove();
  });

  it("keeps a private memory private: hermes can neither recall nor forget apollo's", async () => {
    const answer = await apollo('remember', { content: 'My staging SSH key passphrase hint is the blue notebook', kind: 'preference', scope: 'private' }, 'local:dev');
    assert.match(answer, /^Remembered as \S+ \(preference, visible to you only\)\.$/);
    const id = idIn(answer);
    assert.equal((await store.get(id))?.scope, 'persona:apollo');

    const mine = await apollo('recall', { query: 'staging SSH key passphrase' }, 'local:elsewhere');
    assert.match(mine, new RegExp(`^1 memory:\\n1\\. \\[${id}\\] preference, private, from local:dev, by apollo, just now: My staging SSH key passphrase hint is the blue notebook$`));

    assert.equal(await hermes('recall', { query: 'staging SSH key passphrase' }, 'local:dev'), 'No memories match.');
    assert.equal(await hermes('forget', { id }, 'local:dev'), `No such memory: ${id}.`, 'answers like a missing memory');
    assert.equal(await hermes('forget', { id: 'mem_does_not_exist' }, 'local:dev'), 'No such memory: mem_does_not_exist.');
    assert.ok(await store.get(id), 'still stored');
  });

  it("refuses to write another persona's private memory or another conversation's", async () => {
    const before = (await store.status()).counts.total;
    assert.match(
      await hermes('remember', { content: 'apollo likes tabs', kind: 'preference', scope: 'persona:apollo' }, 'local:dev'),
      /^Not remembered: persona:apollo is another persona's private memory, and only they can write it\./,
    );
    assert.match(await hermes('remember', { content: 'x', kind: 'fact', scope: 'conversation:local:other' }, 'local:dev'), /^Not remembered: you can only write to this conversation's memory/);
    assert.match(await hermes('remember', { content: 'x', kind: 'fact', scope: 'everyone' }, 'local:dev'), /^Not remembered: unknown scope "everyone"; use 'team'/);
    assert.match(await hermes('remember', { content: 'x', kind: 'fact', scope: 'repo:api' }, 'local:dev'), /is not a repository scope; write it as repo:<owner>\/<repo>/);
    assert.equal((await store.status()).counts.total, before);
  });

  it('shares team and repository memories with every persona, in every conversation', async () => {
    const team = idIn(await apollo('remember', { content: 'The API rate limit is 100 requests per minute per token', kind: 'decision' }, 'local:planning'));
    const repo = idIn(await apollo('remember', { content: 'acme/api runs its tests with npm run test:unit', kind: 'code_context', scope: 'repo:acme/api' }, 'local:planning'));
    assert.equal((await store.get(team))?.scope, 'team', 'team is the default scope');

    const rate = await hermes('recall', { query: 'what is the API rate limit?' }, 'local:other');
    assert.match(rate, new RegExp(`^1\\. \\[${team}\\] decision, team, from local:planning, by apollo, just now: The API rate limit is 100 requests per minute per token$`, 'm'));
    const tests = await hermes('recall', { query: 'how do I run the tests of acme/api', kinds: ['code_context'] }, 'local:other');
    assert.match(tests, new RegExp(`^1 memory:\\n1\\. \\[${repo}\\] code_context, repo:acme/api, `));
  });

  it('keeps a conversation memory in its conversation', async () => {
    const id = idIn(await hermes('remember', { content: 'In this thread we agreed to ship the migration on Friday', kind: 'decision', scope: 'conversation' }, 'local:release'));
    assert.equal((await store.get(id))?.scope, 'conversation:local:release');
    assert.match(await apollo('recall', { query: 'ship the migration Friday' }, 'local:release'), new RegExp(`\\[${id}\\] decision, this conversation`));
    assert.doesNotMatch(await apollo('recall', { query: 'ship the migration Friday' }, 'local:random'), new RegExp(id));
    assert.equal(await apollo('forget', { id }, 'local:random'), `No such memory: ${id}.`);
  });

  it('stores once when a resumed run repeats the call', async () => {
    const args = { content: 'The deploy window is Tuesday 10:00 UTC', kind: 'fact' };
    const first = await apollo('remember', args, 'local:ops', 'call_resumed');
    const again = await apollo('remember', args, 'local:ops', 'call_resumed');
    assert.equal(idIn(again), idIn(first));
    assert.equal((await store.list({ kinds: ['fact'] })).filter((m) => m.content === args.content).length, 1);
  });

  it('forgets for real: gone from every search', async () => {
    const id = idIn(await apollo('remember', { content: 'The legacy billing cron runs at 03:00 on worker-7', kind: 'runbook' }, 'local:ops'));
    assert.match(await hermes('recall', { query: 'legacy billing cron' }, 'local:ops'), new RegExp(id));
    assert.equal(await hermes('forget', { id }, 'local:ops'), `Forgot ${id}.`, 'team memory: any persona may forget it');
    assert.equal(await store.get(id), null);
    assert.doesNotMatch(await apollo('recall', { query: 'legacy billing cron worker-7' }, 'local:ops'), new RegExp(id));
    assert.equal(await hermes('forget', { id }, 'local:ops'), `No such memory: ${id}.`);
  });

  it('answers a clear message, not wrong results, when the embedder changed', async () => {
    const switched = new MemoryStore(db.pool, new LexicalEmbedder({ dimension: 128 }));
    const tools = new Map(
      memoryTools({ store: switched })({ persona: { id: 'hermes', name: 'Hermes', role: 'developer' }, credentials: { chat: {} }, outbox: { send: async () => ({ queued: true }) } }).map((t) => [
        t.name,
        t,
      ]),
    );
    const call: ToolCall = { id: 'call_mismatch', threadId: 'local:dev', platform: 'local', persona: 'hermes', runId: 'run-x' };
    const recall = await tools.get('recall')!.run({ query: 'API rate limit' }, call);
    assert.match(
      recall,
      /^Memory search is unavailable until a human re-embeds the memories: memory was embedded with lexical-hash-v1 \(384 dimensions\) but the configured embedder is lexical-hash-v1 \(128 dimensions\): run `pantheon memory reembed` before searching\. Carry on without it/,
    );
    const remember = await tools.get('remember')!.run({ content: 'x', kind: 'fact', scope: 'team' }, call);
    assert.match(remember, /^Memory is unavailable until a human re-embeds the memories/);
  });
});
