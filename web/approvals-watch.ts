type Listener = (pending: number) => void;

/**
 * One poller for every approvals stream of this process: a cheap look at the approvals table
 * (its latest change and how many wait) each interval while anyone listens, and a word to every
 * listener when it moved. Requests and decisions come from any replica, so the table is the
 * only place that knows them all.
 */
export class ApprovalsWatch {
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private last: string | undefined;
  private busy = false;

  constructor(
    private readonly version: () => Promise<{ version: string; pending: number }>,
    private readonly opts: { pollIntervalMs: number; onError: (err: unknown) => void },
  ) {}

  async subscribe(listener: Listener): Promise<() => void> {
    if (!this.timer) {
      this.last = (await this.version()).version;
      this.timer = setInterval(() => void this.look(), this.opts.pollIntervalMs);
      this.timer.unref();
    }
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  private async look(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const now = await this.version();
      if (now.version === this.last) return;
      this.last = now.version;
      for (const listener of this.listeners) listener(now.pending);
    } catch (err) {
      this.opts.onError(err);
    } finally {
      this.busy = false;
    }
  }
}
