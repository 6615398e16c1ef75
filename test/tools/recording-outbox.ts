import type { OutboundMessage } from '../../core/chat/types.js';
import type { OutboxPort } from '../../tools/types.js';

/** An OutboxPort that keeps what was sent and, like the real outbox, posts each idempotency key once. */
export class RecordingOutbox implements OutboxPort {
  readonly sent: OutboundMessage[] = [];
  /** Every send, duplicates included. */
  calls = 0;
  private readonly keys = new Set<string>();

  async send(message: OutboundMessage): Promise<{ queued: boolean }> {
    this.calls++;
    if (this.keys.has(message.idempotencyKey)) return { queued: false };
    this.keys.add(message.idempotencyKey);
    this.sent.push(message);
    return { queued: true };
  }
}
