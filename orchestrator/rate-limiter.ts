/**
 * Paces posts to each platform so the team stays inside its published limits instead of
 * learning them from 429s: a token bucket per thread (Slack: about one message per second per
 * channel; Telegram: one per second per chat; Discord: five per five seconds per channel) and one
 * per platform (Telegram: 30 per second per bot). A post waits for a token; adapters still honour
 * Retry-After when a platform answers 429 anyway. Waiting holds only that thread's queue of posts,
 * never a run: posts leave the run through the outbox queue.
 */
export interface RateLimit {
  /** Posts per second to one thread (a channel or chat); bursts up to `burst`. */
  perThread?: number;
  /** Posts per second to the platform as a whole. */
  perPlatform?: number;
  /** How many posts may go at once before pacing starts (default: one second's worth, at least 1). */
  burst?: number;
}

/** Published limits of each platform, as defaults. GitHub is paced by octokit's throttling. */
export const DEFAULT_RATE_LIMITS: Readonly<Record<string, RateLimit>> = {
  slack: { perThread: 1, perPlatform: 20, burst: 3 },
  telegram: { perThread: 1, perPlatform: 30, burst: 3 },
  discord: { perThread: 1, perPlatform: 40, burst: 5 },
  mattermost: { perThread: 10, perPlatform: 50 },
};

class Bucket {
  private tokens: number;
  private last: number;

  constructor(private readonly rate: number, private readonly capacity: number, now: number) {
    this.tokens = capacity;
    this.last = now;
  }

  /** Takes a token; answers how long to wait before the post may go (0: at once). */
  take(now: number): number {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.rate) * 1000;
  }

  idleFor(now: number): boolean {
    return this.tokens + ((now - this.last) / 1000) * this.rate >= this.capacity;
  }
}

export class OutboundRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly limits: Record<string, RateLimit>;

  constructor(
    overrides: Record<string, RateLimit> = {},
    private readonly clock: { now(): number; sleep(ms: number): Promise<void> } = {
      now: () => performance.now(),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    },
  ) {
    this.limits = { ...DEFAULT_RATE_LIMITS, ...overrides };
  }

  /** Waits until a post to `threadId` on `platform` fits the platform's limits. */
  async take(platform: string, threadId: string): Promise<number> {
    const limit = this.limits[platform];
    if (!limit) return 0;
    const now = this.clock.now();
    let wait = 0;
    if (limit.perPlatform) wait = Math.max(wait, this.bucket(`p:${platform}`, limit.perPlatform, limit.burst, now).take(now));
    if (limit.perThread) wait = Math.max(wait, this.bucket(`t:${threadId}`, limit.perThread, limit.burst, now).take(now));
    if (wait > 0) await this.clock.sleep(wait);
    this.prune(now);
    return wait;
  }

  private bucket(key: string, rate: number, burst: number | undefined, now: number): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      b = new Bucket(rate, Math.max(1, burst ?? Math.floor(rate)), now);
      this.buckets.set(key, b);
    }
    return b;
  }

  /** Full buckets of quiet threads are forgotten, so the map does not grow with every thread ever seen. */
  private prune(now: number): void {
    if (this.buckets.size < 5000) return;
    for (const [key, b] of this.buckets) if (b.idleFor(now)) this.buckets.delete(key);
  }
}
