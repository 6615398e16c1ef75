/**
 * One run at a time per thread, inside this process: callers for the same key run one after
 * another in arrival order; different keys run in parallel. The map holds only keys with work queued.
 */
export class ThreadLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Waits for the callers before us on this key; the answer lets the next one in (call it once, in a `finally`). */
  async acquire(key: string): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const unlock = await this.acquire(key);
    try {
      return await fn();
    } finally {
      unlock();
    }
  }

  get size(): number {
    return this.tails.size;
  }
}
