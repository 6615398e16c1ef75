import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { afterEach, describe, it } from 'node:test';
import { ConversationFeeds } from '../../platforms/local/conversation-feed.js';
import type { ChatMessage, ChatStore } from '../../platforms/local/store.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Lets every pending promise and callback run (the feed's queries are a few awaits deep). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

interface ListCall {
  conversation: string;
  afterSeq: number;
  limit: number;
}

/**
 * The part of ChatStore the feeds use: `list` and `changes`. Every `list` call is recorded;
 * `hold` makes the calls it matches wait until `release()`, either before they read the messages
 * (the query sees what is stored meanwhile) or after (it has read the table but not yet returned).
 */
class FakeStore {
  readonly changes = new EventEmitter();
  readonly calls: ListCall[] = [];
  private readonly messages = new Map<string, ChatMessage[]>();
  private seq = 0;
  failures: Error[] = [];
  hold: ((call: ListCall) => false | 'before-read' | 'after-read') | null = null;
  private readonly held: (() => void)[] = [];

  /** Stores a message and tells listeners, as ChatStore.append does. */
  add(conversation: string, text = `m${this.seq + 1}`, notify = true): ChatMessage {
    const m: ChatMessage = { id: `id-${this.seq + 1}`, role: 'user', author: 'jeff', persona: null, text, createdAt: new Date().toISOString(), seq: ++this.seq };
    this.messages.set(conversation, [...(this.messages.get(conversation) ?? []), m]);
    if (notify) this.changes.emit(conversation);
    return m;
  }

  async list(conversation: string, opts: { afterSeq?: number; limit?: number } = {}): Promise<ChatMessage[]> {
    const call = { conversation, afterSeq: opts.afterSeq ?? 0, limit: opts.limit ?? 1000 };
    this.calls.push(call);
    await Promise.resolve();
    const failure = this.failures.shift();
    if (failure) throw failure;
    const holding = this.hold?.(call) ?? false;
    if (holding === 'before-read') await new Promise<void>((r) => this.held.push(r));
    const answer = (this.messages.get(conversation) ?? []).filter((m) => m.seq > call.afterSeq).slice(0, call.limit);
    if (holding === 'after-read') await new Promise<void>((r) => this.held.push(r));
    return answer;
  }

  release(): void {
    this.hold = null;
    for (const r of this.held.splice(0)) r();
  }

  callsSince(n: number): ListCall[] {
    return this.calls.slice(n);
  }
}

/** What one subscriber was sent, by seq. */
class Received {
  readonly seqs: number[] = [];
  readonly send = (m: ChatMessage) => void this.seqs.push(m.seq);
}

const opened: ConversationFeeds[] = [];
const unsubscribes: (() => void)[] = [];
afterEach(() => {
  for (const u of unsubscribes.splice(0)) u();
  opened.length = 0;
});

function feedsOn(store: FakeStore, opts: { pollIntervalMs?: number; errors?: unknown[] } = {}): ConversationFeeds {
  const feeds = new ConversationFeeds(store as unknown as ChatStore, {
    pollIntervalMs: opts.pollIntervalMs ?? 3_600_000,
    onError: (err) => {
      if (!opts.errors) throw err;
      opts.errors.push(err);
    },
  });
  opened.push(feeds);
  return feeds;
}

function follow(feeds: ConversationFeeds, conversation: string, afterSeq: number): Received {
  const r = new Received();
  unsubscribes.push(feeds.subscribe(conversation, afterSeq, r.send));
  return r;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('ConversationFeeds', () => {
  it("sends each new message once, in order, to every subscriber, and only its conversation's", async () => {
    const store = new FakeStore();
    const feeds = feedsOn(store);
    const a = follow(feeds, 'general', 0);
    const b = follow(feeds, 'general', 0);
    const other = follow(feeds, 'ops', 0);
    await settle();
    store.add('general');
    store.add('general');
    store.add('ops');
    store.add('general');
    await settle();
    assert.deepEqual(a.seqs, [1, 2, 4]);
    assert.deepEqual(b.seqs, [1, 2, 4]);
    assert.deepEqual(other.seqs, [3]);
  });

  it('one query per change, however many subscribers follow the conversation', async () => {
    const store = new FakeStore();
    const feeds = feedsOn(store);
    const subscribers = range(1, 50).map(() => follow(feeds, 'general', 0));
    await settle();
    const before = store.calls.length;
    store.add('general');
    await settle();
    assert.deepEqual(store.callsSince(before), [{ conversation: 'general', afterSeq: 0, limit: 500 }]);
    store.add('general');
    await settle();
    assert.equal(store.callsSince(before).length, 2, 'a second change, a second query');
    for (const s of subscribers) assert.deepEqual(s.seqs, [1, 2]);
    assert.equal(feeds.size, 1);
  });

  it('changes during a query are taken by one more query, not one each', async () => {
    const store = new FakeStore();
    const feeds = feedsOn(store);
    const a = follow(feeds, 'general', 0);
    await settle();
    const before = store.calls.length;
    store.hold = () => 'after-read';
    store.add('general');
    await settle();
    for (let i = 0; i < 10; i++) store.add('general');
    store.release();
    await settle();
    assert.ok(store.callsSince(before).length <= 2, `${store.callsSince(before).length} queries for 11 changes`);
    assert.deepEqual(a.seqs, range(1, 11));
  });

  it('a subscriber behind the feed catches up with its own query, then follows it without duplicates or gaps', async () => {
    const store = new FakeStore();
    for (let i = 0; i < 1200; i++) store.add('general', undefined, false);
    const feeds = feedsOn(store);
    const current = follow(feeds, 'general', 1200);
    await settle();
    const before = store.calls.length;
    const behind = follow(feeds, 'general', 3); // a reconnect with Last-Event-ID: 3
    await settle();
    // Its own queries, a page at a time from where it was; the feed's own position is untouched.
    assert.deepEqual(
      store
        .callsSince(before)
        .filter((c) => c.afterSeq < 1200)
        .map((c) => c.afterSeq),
      [3, 503, 1003],
    );
    assert.deepEqual(behind.seqs, range(4, 1200));
    store.add('general');
    store.add('general');
    await settle();
    assert.deepEqual(behind.seqs, range(4, 1202));
    assert.deepEqual(current.seqs, [1201, 1202]);
  });

  it('a message that arrives while a subscriber catches up is delivered to it once, in order (its query saw the message)', async () => {
    const store = new FakeStore();
    for (let i = 0; i < 5; i++) store.add('general', undefined, false);
    const feeds = feedsOn(store);
    const current = follow(feeds, 'general', 5);
    await settle();
    // The catch-up query waits before it reads; the message lands meanwhile, so the query sees it too.
    store.hold = (c) => c.afterSeq === 2 && 'before-read';
    const behind = follow(feeds, 'general', 2);
    await settle();
    store.add('general'); // seq 6: the feed sends it now; the catching-up subscriber has it queued as well
    await settle();
    assert.deepEqual(current.seqs, [6]);
    assert.deepEqual(behind.seqs, [], 'nothing before its catch-up is done');
    store.release();
    await settle();
    assert.deepEqual(behind.seqs, [3, 4, 5, 6]);
  });

  it('a message that arrives while a subscriber catches up is delivered to it once, in order (its query did not see it)', async () => {
    const store = new FakeStore();
    for (let i = 0; i < 5; i++) store.add('general', undefined, false);
    const feeds = feedsOn(store);
    follow(feeds, 'general', 5);
    await settle();
    // The catch-up query has read the table (seq 3..5) before the message is stored.
    store.hold = (c) => c.afterSeq === 2 && 'after-read';
    const behind = follow(feeds, 'general', 2);
    await settle();
    store.add('general'); // seq 6
    await settle();
    store.release();
    await settle();
    assert.deepEqual(behind.seqs, [3, 4, 5, 6]);
    store.add('general');
    await settle();
    assert.deepEqual(behind.seqs, [3, 4, 5, 6, 7]);
  });

  it('polls for messages written by another process (no notification)', async () => {
    const store = new FakeStore();
    const feeds = feedsOn(store, { pollIntervalMs: 10 });
    const a = follow(feeds, 'general', 0);
    store.add('general', 'from a worker', false);
    for (let i = 0; i < 100 && a.seqs.length === 0; i++) await sleep(10);
    assert.deepEqual(a.seqs, [1]);
  });

  it('the last unsubscribe closes the feed: no listener, no polling, nothing sent', async () => {
    const store = new FakeStore();
    const feeds = feedsOn(store, { pollIntervalMs: 10 });
    const a = new Received();
    const b = new Received();
    const offA = feeds.subscribe('general', 0, a.send);
    const offB = feeds.subscribe('general', 0, b.send);
    await sleep(50);
    assert.ok(store.calls.length > 2, 'the feed polls while it has subscribers');
    offA();
    assert.equal(feeds.size, 1, 'one subscriber left: the feed stays');
    assert.equal(store.changes.listenerCount('general'), 1);
    offB();
    assert.equal(feeds.size, 0);
    assert.equal(store.changes.listenerCount('general'), 0);
    await settle();
    const before = store.calls.length;
    store.add('general');
    await sleep(60);
    assert.equal(store.calls.length, before, 'no query after the feed closed');
    assert.deepEqual([a.seqs, b.seqs], [[], []]);
    // A new subscriber starts a new feed.
    const c = follow(feeds, 'general', 0);
    await settle();
    assert.equal(feeds.size, 1);
    assert.deepEqual(c.seqs, [1]);
  });

  it('errors go to onError, and the feed goes on', async () => {
    const store = new FakeStore();
    const errors: unknown[] = [];
    const feeds = feedsOn(store, { errors });
    const a = follow(feeds, 'general', 0);
    await settle();
    store.failures.push(new Error('connection reset'));
    store.add('general');
    await settle();
    assert.deepEqual(
      errors.map((e) => (e as Error).message),
      ['connection reset'],
    );
    assert.deepEqual(a.seqs, []);
    store.add('general');
    await settle();
    assert.deepEqual(a.seqs, [1, 2], 'the next change brings what the failed query missed');
  });

  it('a failed catch-up query goes to onError too', async () => {
    const store = new FakeStore();
    for (let i = 0; i < 3; i++) store.add('general', undefined, false);
    const errors: unknown[] = [];
    const feeds = feedsOn(store, { errors });
    follow(feeds, 'general', 3);
    await settle();
    store.failures.push(new Error('catch-up failed'));
    const behind = follow(feeds, 'general', 0);
    await settle();
    assert.deepEqual(
      errors.map((e) => (e as Error).message),
      ['catch-up failed'],
    );
    store.add('general');
    await settle();
    // It is not stuck: later messages still reach it (what its failed query would have sent is not).
    assert.ok(behind.seqs.includes(4), String(behind.seqs));
  });
});
