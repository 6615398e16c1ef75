import type { ChatMessage, ChatStore } from './store.js';

interface Subscriber {
  lastSeq: number;
  send: (m: ChatMessage) => void;
  /** While its own catch-up query runs, what the feed delivers waits here, in order. */
  pending: ChatMessage[] | null;
}

const PAGE = 500;

/**
 * One conversation's stream of new messages, shared by every SSE stream open on it: one query per
 * change (the store's in-process notification) and one poll per interval for messages written by
 * another process, however many streams listen. A stream that starts behind the feed (a
 * reconnect with `Last-Event-ID`) catches up with a query of its own, then follows the feed.
 */
class ConversationFeed {
  readonly subscribers = new Set<Subscriber>();
  private seq: number;
  private draining: Promise<void> | null = null;
  private again = false;
  private readonly poll: NodeJS.Timeout;
  private readonly onChange = () => void this.drain();

  constructor(
    private readonly store: ChatStore,
    private readonly conversation: string,
    startSeq: number,
    pollIntervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {
    this.seq = startSeq;
    store.changes.on(conversation, this.onChange);
    this.poll = setInterval(this.onChange, pollIntervalMs);
    this.poll.unref();
  }

  add(sub: Subscriber): void {
    this.subscribers.add(sub);
    if (sub.lastSeq >= this.seq) return;
    sub.pending = [];
    void (async () => {
      try {
        for (;;) {
          const page = await this.store.list(this.conversation, { afterSeq: sub.lastSeq, limit: PAGE });
          for (const m of page) deliver(sub, m, true);
          if (page.length < PAGE) break;
        }
      } catch (err) {
        this.onError(err);
      }
      const queued = sub.pending ?? [];
      sub.pending = null;
      for (const m of queued) deliver(sub, m);
    })();
  }

  close(): void {
    this.store.changes.off(this.conversation, this.onChange);
    clearInterval(this.poll);
  }

  /** Single flight: a change during a query runs one more query after it. */
  drain(): Promise<void> {
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    this.draining = (async () => {
      do {
        this.again = false;
        let page: ChatMessage[];
        do {
          page = await this.store.list(this.conversation, { afterSeq: this.seq, limit: PAGE });
          for (const m of page) {
            this.seq = Math.max(this.seq, m.seq);
            for (const sub of this.subscribers) deliver(sub, m);
          }
        } while (page.length === PAGE && this.subscribers.size > 0);
      } while (this.again && this.subscribers.size > 0);
    })()
      .catch(this.onError)
      .finally(() => {
        this.draining = null;
      });
    return this.draining;
  }
}

function deliver(sub: Subscriber, m: ChatMessage, catchingUp = false): void {
  if (sub.pending && !catchingUp) {
    sub.pending.push(m);
    return;
  }
  if (m.seq <= sub.lastSeq) return;
  sub.lastSeq = m.seq;
  sub.send(m);
}

/** The feeds of every conversation with at least one open stream. */
export class ConversationFeeds {
  private readonly feeds = new Map<string, ConversationFeed>();

  constructor(
    private readonly store: ChatStore,
    private readonly opts: { pollIntervalMs: number; onError: (err: unknown) => void },
  ) {}

  /**
   * Sends `send` every message of `conversation` after `afterSeq`, in order, until the returned
   * function is called.
   */
  subscribe(conversation: string, afterSeq: number, send: (m: ChatMessage) => void): () => void {
    let feed = this.feeds.get(conversation);
    if (!feed) {
      feed = new ConversationFeed(this.store, conversation, afterSeq, this.opts.pollIntervalMs, this.opts.onError);
      this.feeds.set(conversation, feed);
    }
    const sub: Subscriber = { lastSeq: afterSeq, send, pending: null };
    feed.add(sub);
    // A message may have landed between the caller's look at the tail and now.
    void feed.drain();
    const current = feed;
    return () => {
      current.subscribers.delete(sub);
      if (current.subscribers.size === 0 && this.feeds.get(conversation) === current) {
        current.close();
        this.feeds.delete(conversation);
      }
    };
  }

  /** How many conversations have a feed (for tests and metrics). */
  get size(): number {
    return this.feeds.size;
  }
}
