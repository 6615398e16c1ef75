import type { Logger } from '../log.js';
import type { Fence, Holding, Leases } from './types.js';

/**
 * The embedded database serves one process (its data-dir lock): that process owns every
 * connection, started at once, without a table or timers.
 */
export class SoleOwner implements Leases {
  readonly kind = 'sole';
  readonly owner = `pid:${process.pid}`;
  private readonly held = new Map<string, { holding: Holding; started: Promise<boolean> }>();

  constructor(private readonly logger: Logger) {}

  hold(name: string, holding: Holding): void {
    if (this.held.has(name)) throw new Error(`lease ${name} is already held`);
    const fence: Fence = { name, token: 0 };
    const started = holding.start(fence).then(
      () => true,
      (err) => {
        this.logger.error({ lease: name, err: (err as Error).message }, 'a connection could not start');
        return false;
      },
    );
    this.held.set(name, { holding, started });
  }

  owned(): Array<{ name: string; up: boolean }> {
    return [...this.held].map(([name, { holding }]) => ({ name, up: holding.up?.() ?? true }));
  }

  healthy(): boolean {
    return true;
  }

  async close(): Promise<void> {
    const all = [...this.held.values()];
    this.held.clear();
    await Promise.all(all.map(async ({ holding, started }) => (await started) && holding.stop().catch((err) => this.logger.warn({ err }, 'a connection did not stop cleanly'))));
  }
}
