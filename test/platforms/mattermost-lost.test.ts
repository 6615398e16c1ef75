/**
 * A post the ingress cannot store holds its channel's read cursor, and is read again, but not for
 * ever (platforms/mattermost/inbound.ts): past `lostAfterMs`, or once it is older than the 24 h
 * catch-up window, it is logged as lost with its text and counted, as core/chat/inbound.ts does
 * for platforms that never deliver again, and the cursor moves on. Against the fake Mattermost,
 * through the real adapter and @mattermost/client.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Envelope } from '../../core/chat/types.js';
import { createLogger } from '../../core/log.js';
import { createMetrics } from '../../core/metrics.js';
import { MattermostAdapter } from '../../platforms/mattermost/adapter.js';
import { ChannelCursors } from '../../platforms/mattermost/cursors.js';
import { ChannelDirectory } from '../../platforms/mattermost/directory.js';
import { MAX_CATCH_UP_MS, MattermostInbound } from '../../platforms/mattermost/inbound.js';
import { BotRoster } from '../../platforms/mattermost/roster.js';
import { until } from '../contract/durable-ingress.js';
import { startFakeMattermost, type FakeMattermost } from '../fakes/mattermost/index.js';

type Line = { level: number; msg: string; inbound?: string; text?: string; attempts?: number };

/** An ingress that refuses everything while `down`, and otherwise stores (deduping by id). */
function switchableIngress() {
  const state = { down: true, calls: [] as string[], stored: new Map<string, Envelope>() };
  const ingress = async (e: Envelope) => {
    state.calls.push(e.id);
    if (state.down) throw new Error('database unavailable');
    if (state.stored.has(e.id)) return { id: e.id, accepted: false };
    state.stored.set(e.id, e);
    return { id: e.id, accepted: true };
  };
  return { state, ingress };
}

describe('a Mattermost post the ingress cannot store', () => {
  let fake: FakeMattermost;
  let token: string;
  let stops: Array<() => Promise<void>> = [];
  before(async () => {
    fake = await startFakeMattermost();
    token = fake.addBot('athena-bot').token;
    fake.addHuman('jeff');
    fake.addChannel('town-square', { members: ['athena-bot', 'jeff'] });
  });
  afterEach(async () => {
    for (const stop of stops) await stop();
    stops = [];
  });
  after(async () => {
    await fake.close();
  });

  async function started(opts: { lostAfterMs?: number; now?: () => number }) {
    const lines: Line[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(JSON.parse(l)) } });
    const metrics = createMetrics({ defaultMetrics: false });
    const { state, ingress } = switchableIngress();
    const roster = new BotRoster(fake.url, [{ id: 'athena', token }], logger);
    const directory = new ChannelDirectory();
    const cursors = new ChannelCursors({ logger });
    const inbound = new MattermostInbound({ roster, cursors, directory, ingress, logger, metrics, startedAt: Date.now(), retryCatchUpMs: 50, ...opts });
    const adapter = new MattermostAdapter({ baseUrl: fake.url, roster, directory, inbound, logger, pingIntervalMs: 1000, actions: () => null, personaName: (id) => id });
    await adapter.start();
    adapter.listen();
    stops.push(() => adapter.stop());
    await until(() => fake.sockets('athena-bot') === 1, 'the socket');
    await inbound.idle();
    const lost = () => lines.filter((l) => /MESSAGE LOST/.test(l.msg));
    const counted = async (outcome: string) =>
      Number(new RegExp(`pantheon_inbound_failures_total\\{platform="mattermost",outcome="${outcome}"\\} (\\d+)`).exec(await metrics.registry.metrics())?.[1] ?? 0);
    return { state, cursors, inbound, lines, lost, counted };
  }

  it('is read again while it is refused, then, past lostAfterMs, logged as lost and counted, and the cursor moves on', async () => {
    const w = await started({ lostAfterMs: 500 });
    const post = fake.post({ user: 'jeff', channel: 'town-square', message: '@athena the release notes, please' });
    const id = `mattermost:${post.id}`;

    // The first read failed (deliverInbound's four tries): the post holds the cursor.
    await until(() => w.lines.some((l) => l.inbound === id && /unacknowledged/.test(l.msg)), 'the first refusal');
    assert.ok((w.cursors.get(post.channel_id) ?? 0) < post.create_at, 'held: the cursor stays before the post');
    assert.deepEqual(w.lost(), []);

    const [lost] = await until(() => (w.lost().length ? w.lost() : false), 'the post given up');
    assert.equal(lost!.level, 50);
    assert.equal(lost!.inbound, id);
    assert.equal(lost!.text, '@athena the release notes, please');
    assert.match(lost!.msg, /^mattermost: MESSAGE LOST: the ingress could not store it in \d+ reads/);
    assert.ok(w.state.calls.filter((c) => c === id).length >= 8, 'read again (two reads at least, four tries each) before giving up');
    assert.equal(await w.counted('lost'), 1);
    assert.ok((await w.counted('unacknowledged')) >= 2);
    assert.ok((w.cursors.get(post.channel_id) ?? 0) >= post.create_at, 'the cursor moved past it');

    // Given up for good: no more reads of it, and the channel takes posts in again.
    w.state.down = false;
    const next = fake.post({ user: 'jeff', channel: 'town-square', message: 'and the changelog' });
    await until(() => w.state.stored.has(`mattermost:${next.id}`), 'the next post stored');
    await until(() => (w.cursors.get(next.channel_id) ?? 0) >= next.create_at, 'the cursor past the next post');
    await w.inbound.idle();
    assert.equal(w.state.stored.has(id), false, 'the lost post is not taken in later');
    assert.equal(w.lost().length, 1, 'reported once');
    assert.equal(await w.counted('lost'), 1);
  });

  it('is given up at the latest when it leaves the 24-hour catch-up window, whatever lostAfterMs says', async () => {
    let skew = 0;
    const w = await started({ lostAfterMs: 7 * MAX_CATCH_UP_MS, now: () => Date.now() + skew });
    const post = fake.post({ user: 'jeff', channel: 'town-square', message: 'status of the migration?' });
    const id = `mattermost:${post.id}`;
    await until(() => w.lines.some((l) => l.inbound === id && /unacknowledged/.test(l.msg)), 'the first refusal');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(w.lost(), [], 'still read again a while later');
    assert.ok((w.cursors.get(post.channel_id) ?? 0) < post.create_at);

    skew = MAX_CATCH_UP_MS + 60_000;
    const [lost] = await until(() => (w.lost().length ? w.lost() : false), 'the post given up');
    assert.equal(lost!.inbound, id);
    assert.equal(lost!.text, 'status of the migration?');
    assert.match(lost!.msg, /older than the catch-up window/);
    assert.equal(await w.counted('lost'), 1);
    await until(() => (w.cursors.get(post.channel_id) ?? 0) >= post.create_at, 'the cursor past it');
  });
});
