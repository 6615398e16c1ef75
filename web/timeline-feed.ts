import type { TimelineEntry } from './timeline.js';

type Listener = (entry: TimelineEntry) => void;

/** How far back each look reaches past the newest entry seen: rows committed slightly out of time order are still caught. */
const OVERLAP_MS = 5000;
/** Entries remembered per thread, to tell new and changed from already sent. */
const MAX_SEEN = 5000;

interface Feed {
  listeners: Set<Listener>;
  seen: Map<string, string>;
  newest: number;
  timer: NodeJS.Timeout;
  busy: boolean;
}

/**
 * One poller per watched thread, shared by every stream on it: each look reads what happened
 * since shortly before the newest entry it has seen and tells the listeners about each entry
 * that is new or changed (an approval decided, a tool result arrived). The first look only
 * learns what is already there: a stream starts with what happens after it opened.
 */
export class TimelineFeeds {
  private readonly feeds = new Map<string, Feed>();

  constructor(
    private readonly read: (thread: string, since: Date) => Promise<TimelineEntry[]>,
    private readonly opts: { pollIntervalMs: number; onError: (err: unknown) => void },
  ) {}

  async subscribe(thread: string, listener: Listener): Promise<() => void> {
    let feed = this.feeds.get(thread);
    if (!feed) {
      const created: Feed = { listeners: new Set(), seen: new Map(), newest: 0, busy: false, timer: setInterval(() => void this.look(thread, created), this.opts.pollIntervalMs) };
      created.timer.unref();
      this.feeds.set(thread, created);
      feed = created;
      await this.look(thread, created, true);
    }
    feed.listeners.add(listener);
    const current = feed;
    return () => {
      current.listeners.delete(listener);
      if (current.listeners.size === 0 && this.feeds.get(thread) === current) {
        clearInterval(current.timer);
        this.feeds.delete(thread);
      }
    };
  }

  private async look(thread: string, feed: Feed, quiet = false): Promise<void> {
    if (feed.busy) return;
    feed.busy = true;
    try {
      const entries = await this.read(thread, new Date(Math.max(0, feed.newest - OVERLAP_MS)));
      for (const entry of entries) {
        const signature = JSON.stringify(entry);
        if (feed.seen.get(entry.id) === signature) continue;
        feed.seen.set(entry.id, signature);
        feed.newest = Math.max(feed.newest, Date.parse(entry.at));
        if (!quiet) for (const listener of feed.listeners) listener(entry);
      }
      if (feed.seen.size > MAX_SEEN) {
        for (const id of [...feed.seen.keys()].slice(0, feed.seen.size - MAX_SEEN)) feed.seen.delete(id);
      }
    } catch (err) {
      this.opts.onError(err);
    } finally {
      feed.busy = false;
    }
  }
}
