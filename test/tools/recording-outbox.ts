import type { OutboundMessage } from '../../core/chat/types.js';
import type { OutboxPort } from '../../tools/types.js';

/**
 * An OutboxPort that keeps what was sent and, like the real outbox, posts each idempotency key once.
 * `direct` answers `directThreadFor` as the platforms' adapters would (`directThreadId`).
 */
export class RecordingOutbox implements OutboxPort {
  readonly sent: OutboundMessage[] = [];
  /** Every send, duplicates included. */
  calls = 0;
  private readonly keys = new Set<string>();

  constructor(private readonly direct: Record<string, (userId: string) => string | undefined> = {}) {}

  directThreadFor(channel: string, userId: string): string | undefined {
    return this.direct[channel]?.(userId);
  }

  async send(message: OutboundMessage): Promise<{ queued: boolean }> {
    this.calls++;
    if (this.keys.has(message.idempotencyKey)) return { queued: false };
    this.keys.add(message.idempotencyKey);
    this.sent.push(message);
    return { queued: true };
  }
}
