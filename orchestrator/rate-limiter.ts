import { platformRateLimits, type RateLimit } from '../core/config/platforms.js';

export type { RateLimit };

class Bucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly capacity: number,
    now: number,
  ) {
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

/**
 * Paces posts to each platform so the team stays inside its published limits instead of
 * learning them from 429s: a token bucket per thread and one per platform, at the limits each
 * platform declares (its `platform.ts`: Telegram, one per second per chat and 30 per second per
 * bot), overridden by `outbox.rateLimits`. A post waits for a token; adapters still honour
 * Retry-After when a platform answers 429 anyway. Waiting holds only that thread's queue of posts,
 * never a run: posts leave the run through the outbox queue.
 */
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
    // Defaults: each registered platform's published limits (its platform.ts); GitHub is paced by octokit's throttling.
    this.limits = { ...platformRateLimits(), ...overrides };
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
