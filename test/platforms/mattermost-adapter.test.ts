import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { MattermostAdapter } from '../../platforms/mattermost/adapter.js';
import { ChannelCursors } from '../../platforms/mattermost/cursors.js';
import { ChannelDirectory } from '../../platforms/mattermost/directory.js';
import { MattermostInbound } from '../../platforms/mattermost/inbound.js';
import { BotRoster } from '../../platforms/mattermost/roster.js';
import type { Envelope, OutboundMessage } from '../../core/chat/types.js';
import { createLogger } from '../../core/log.js';
import { migrate } from '../../core/db/migrate.js';
import { startFakeMattermost, type FakeMattermost } from '../fakes/mattermost/index.js';
import { createTestDatabase, postgresSkip } from '../support/postgres.js';
import { assertThreadIdRoundTrip } from './thread-id-contract.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const logger = createLogger({ level: 'silent' });

/** An ingress that records every call and dedupes by envelope id, like the real one. */
function recordingIngress() {
  const calls: Envelope[] = [];
  const accepted = new Map<string, Envelope>();
  return {
    calls,
    accepted: () => [...accepted.values()],
    ingress: async (e: Envelope) => {
      calls.push(e);
      if (accepted.has(e.id)) return { id: e.id, accepted: false };
      accepted.set(e.id, e);
      return { id: e.id, accepted: true };
    },
  };
}

/** The adapter wired as the module wires it. */
function wire(fake: FakeMattermost, personas: Array<{ id: string; token: string }>, opts: { pingIntervalMs?: number; sink?: ReturnType<typeof recordingIngress>; cursors?: ChannelCursors } = {}) {
  const sink = opts.sink ?? recordingIngress();
  const roster = new BotRoster(fake.url, personas, logger);
  const directory = new ChannelDirectory();
  const cursors = opts.cursors ?? new ChannelCursors({ logger });
  const inbound = new MattermostInbound({ roster, cursors, directory, logger, startedAt: Date.now(), ingress: sink.ingress });
  const adapter = new MattermostAdapter({
    baseUrl: fake.url,
    roster,
    directory,
    inbound,
    logger,
    pingIntervalMs: opts.pingIntervalMs ?? 200,
    actions: () => ({ url: 'http://127.0.0.1:9/webhooks/mattermost/actions', secret: 'test-secret' }),
    personaName: (id) => ({ hermes: 'Hermes' })[id],
  });
  return { adapter, roster, calls: sink.calls, accepted: sink.accepted };
}

const message = (over: Partial<OutboundMessage>): OutboundMessage => ({ idempotencyKey: `k-${Math.random()}`, platform: 'mattermost', threadId: '', role: 'agent', text: 'hi', ...over });

describe('the Mattermost adapter against the fake server', () => {
  let fake: FakeMattermost;
  let tokens: { athena: string; apollo: string };
  let stopAll: Array<() => Promise<void>> = [];
  before(async () => {
    fake = await startFakeMattermost();
    const athena = fake.addBot('athena-bot');
    const apollo = fake.addBot('apollo');
    fake.addHuman('jeff');
    fake.addHuman('carol');
    fake.addChannel('town-square', { members: ['athena-bot', 'apollo', 'jeff', 'carol'] });
    fake.addChannel('ops', { members: ['athena-bot', 'jeff'] });
    tokens = { athena: athena.token, apollo: apollo.token };
  });
  afterEach(async () => {
    for (const s of stopAll) await s();
    stopAll = [];
  });
  after(async () => {
    await fake.close();
  });

  const started = async (opts: Parameters<typeof wire>[2] = {}) => {
    const w = wire(
      fake,
      [
        { id: 'athena', token: tokens.athena },
        { id: 'apollo', token: tokens.apollo },
        { id: 'hermes', token: 'not-a-valid-token' },
      ],
      opts,
    );
    await w.adapter.start();
    w.adapter.listen();
    stopAll.push(() => w.adapter.stop());
    await fake.waitFor(() => fake.sockets('athena-bot') === 1 && fake.sockets('apollo') === 1, 5000, 'both sockets');
    return w;
  };

  it('passes the thread-id contract', () => {
    const { adapter } = wire(fake, [{ id: 'athena', token: tokens.athena }]);
    assertThreadIdRoundTrip(adapter, [{ channelId: 'c'.repeat(26), rootId: 'r'.repeat(26) }, { channelId: 'town-square' }, { channelId: 'a:b', rootId: '#1' }]);
  });

  it("posts as each persona's own bot in the thread; splits long text; a repeated key posts once", async () => {
    const { adapter } = wire(fake, [
      { id: 'athena', token: tokens.athena },
      { id: 'apollo', token: tokens.apollo },
    ]);
    await adapter.start();
    const root = fake.post({ user: 'jeff', channel: 'town-square', message: 'release plan?' });
    const threadId = adapter.encodeThreadId({ channelId: root.channel_id, rootId: root.id });
    const a = await adapter.post(message({ threadId, persona: 'athena', text: 'Handing to @apollo.', idempotencyKey: 'athena-1' }));
    const long = 'word '.repeat(4000);
    await adapter.post(message({ threadId, persona: 'apollo', text: long, idempotencyKey: 'apollo-1' }));
    const again = await adapter.post(message({ threadId, persona: 'athena', text: 'Handing to @apollo.', idempotencyKey: 'athena-1' }));
    assert.equal(again.id, a.id, 'the same key finds the same post');
    const replies = fake.thread(root.id).slice(1);
    assert.deepEqual(
      replies.map((p) => fake.username(p.user_id)),
      ['athena-bot', 'apollo', 'apollo'],
    );
    assert.equal(replies[0]!.message, 'Handing to @apollo.');
    assert.ok(replies.every((p) => p.root_id === root.id));
    assert.equal(replies[1]!.message.length + replies[2]!.message.length + 1 >= long.trim().length, true);
  });

  it('system messages come from the first bot, or from the bot in a DM; `@user` is a DM; a persona without a bot speaks through it by name', async () => {
    const { adapter } = wire(fake, [
      { id: 'athena', token: tokens.athena },
      { id: 'apollo', token: tokens.apollo },
    ]);
    await adapter.start();
    await adapter.post(message({ threadId: 'mattermost:ops', role: 'system', text: 'Deploy at 17:00.' }));
    const ops = fake.postsIn('ops').at(-1)!;
    assert.deepEqual([fake.username(ops.user_id), ops.message, ops.root_id], ['athena-bot', 'Deploy at 17:00.', '']);
    const dm = fake.directChannel('apollo', 'jeff');
    await adapter.post(message({ threadId: `mattermost:${dm.id}`, role: 'system', text: 'Approval needed' }));
    assert.equal(fake.username(fake.postsIn(dm.id).at(-1)!.user_id), 'apollo');
    await adapter.post(message({ threadId: `mattermost:${dm.id}`, persona: 'athena', text: 'handed over' }));
    const inDm = fake.postsIn(dm.id).at(-1)!;
    assert.deepEqual([fake.username(inDm.user_id), inDm.message], ['apollo', '**athena:** handed over'], "athena's bot cannot post in apollo's DM");
    await adapter.post(message({ threadId: 'mattermost:@carol', persona: 'apollo', text: 'a word in private' }));
    const privately = fake.postsIn(fake.directChannel('apollo', 'carol').id).at(-1)!;
    assert.deepEqual([fake.username(privately.user_id), privately.message], ['apollo', 'a word in private']);
    await adapter.post(message({ threadId: 'mattermost:town-square', persona: 'hermes', text: 'on it' }));
    const hermes = fake.postsIn('town-square').at(-1)!;
    assert.deepEqual([fake.username(hermes.user_id), hermes.message], ['athena-bot', '**Hermes:** on it']);
  });

  it('waits out a rate limit, joins a public channel it is not in, edits in place', async () => {
    const { adapter } = wire(fake, [
      { id: 'athena', token: tokens.athena },
      { id: 'apollo', token: tokens.apollo },
    ]);
    await adapter.start();
    fake.failNextPosts(1, 429);
    const started = Date.now();
    const posted = await adapter.post(message({ threadId: 'mattermost:ops', persona: 'apollo', text: 'apollo here' }));
    assert.ok(Date.now() - started >= 900, 'waited for the limit');
    const post = fake.postsIn('ops').at(-1)!;
    assert.deepEqual([post.id, fake.username(post.user_id), post.message], [posted.id, 'apollo', 'apollo here']);
    await adapter.edit('mattermost:ops', posted.id, message({ persona: 'apollo', text: 'apollo here (edited)' }));
    assert.equal(fake.postsIn('ops').at(-1)!.message, 'apollo here (edited)');
  });

  it('takes a human post seen by two bots in once; ignores the bots; DMs go to their persona; typing shows as the persona', async () => {
    const w = await started();
    fake.post({ user: 'jeff', channel: 'town-square', message: '@athena-bot and @apollo, status?' });
    fake.post({ user: 'athena-bot', channel: 'town-square', message: 'bots never trigger' });
    const dm = fake.directChannel('apollo', 'carol');
    fake.post({ user: 'carol', channel: dm.id, message: 'quick question' });
    await fake.waitFor(() => w.accepted().length === 2, 5000, 'two envelopes');
    await sleep(200);
    const [status, question] = w.accepted();
    assert.equal(status!.text, '@athena and @apollo, status?');
    assert.equal(status!.author.id, 'jeff');
    assert.equal(w.calls.filter((e) => e.id === status!.id).length, 1, 'the second socket did not hand it in again');
    assert.equal(question!.directTo, 'apollo');
    assert.equal(question!.author.id, 'carol');

    await w.adapter.typing(status!.threadId, 'apollo');
    const typed = await fake.waitFor(() => fake.typing.at(-1), 2000, 'typing');
    assert.equal(typed.username, 'apollo');
    assert.equal(typed.parentId, status!.threadId.split(':')[2]);
  });

  it('a deaf socket is cut and reopened within its watchdog interval; what was posted meanwhile is taken in once', async () => {
    const w = await started({ pingIntervalMs: 200 });
    assert.equal(fake.silence(), 2, "both bots' sockets go silent (open, but saying nothing)");
    const silencedAt = Date.now();
    const missed = fake.post({ user: 'jeff', channel: 'town-square', message: '@athena-bot are you there?' });
    await fake.waitFor(() => fake.sockets('athena-bot') === 1 && fake.sockets('apollo') === 1, 5000, 'fresh sockets');
    const reconnectMs = Date.now() - silencedAt;
    assert.ok(reconnectMs < 1500, `reconnected after ${reconnectMs} ms`);
    await fake.waitFor(() => w.accepted().some((e) => e.id === `mattermost:${missed.id}`), 5000, 'the missed post');
    await sleep(300);
    assert.equal(w.calls.filter((e) => e.id === `mattermost:${missed.id}`).length, 1);
    assert.ok(w.roster.bots.every((b) => !b.socket || b.socket.reconnects >= 1));

    // A socket that is closed outright comes back too, and catches up the same way.
    fake.dropSockets('athena-bot');
    fake.silence('apollo');
    const later = fake.post({ user: 'carol', channel: 'town-square', message: 'after the drop' });
    await fake.waitFor(() => w.accepted().some((e) => e.id === `mattermost:${later.id}`), 5000, 'the post after the drop');
  });

  it('after a restart, reads each channel from its saved cursor: what was posted while down is taken in, nothing twice', { skip: postgresSkip }, async () => {
    const db = await createTestDatabase('mattermost_cursors');
    const pool = new pg.Pool({ connectionString: db.url });
    try {
      await migrate(pool, { logger });
      const sink = recordingIngress();
      const first = new ChannelCursors({ pool, logger });
      await first.load();
      const w1 = await started({ sink, cursors: first });
      const before = fake.post({ user: 'jeff', channel: 'town-square', message: 'before the restart' });
      await fake.waitFor(() => sink.accepted().some((e) => e.id === `mattermost:${before.id}`), 5000, 'the first post');
      await w1.adapter.stop();
      stopAll = [];
      await first.stop();
      const { rows } = await pool.query('SELECT channel_id, last_post_at FROM mattermost_cursors');
      assert.deepEqual(
        rows.map((r) => [r.channel_id, Number(r.last_post_at)]),
        [[before.channel_id, before.create_at]],
      );

      const whileDown = fake.post({ user: 'carol', channel: 'town-square', message: '@athena-bot while you were away' });
      await sleep(20);
      const second = new ChannelCursors({ pool, logger });
      await second.load();
      await started({ sink, cursors: second });
      await fake.waitFor(() => sink.accepted().some((e) => e.id === `mattermost:${whileDown.id}`), 5000, 'the post sent while down');
      await sleep(300);
      assert.deepEqual(
        sink.accepted().map((e) => e.text),
        ['before the restart', '@athena while you were away'],
      );
      await second.stop();
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});
