import type { OutboundMessage, PostResult } from './types.js';

/**
 * What tools, platforms and the orchestrator post through: the outbox (never an adapter directly).
 * The outbox records each message under its idempotency key and delivers it with retries.
 */
export interface OutboxPort {
  send(message: OutboundMessage): Promise<{ queued: boolean }>;
  /** A private thread with a person on a platform (approval requests to approvers), where one can be opened. */
  directThreadFor?(platform: string, userId: string): string | undefined;
  /**
   * The after-post hook, where the outbox has one (the real one does; a test double need not):
   * `listener` hears of every message an adapter posted. The GitHub module keeps the work ledger
   * in step through it, so no adapter feeds back into the outbox.
   */
  onPosted?(listener: PostedListener): void;
}

/**
 * Told after an adapter posted a message, with what the adapter answered (its `duplicate` too:
 * a post retried after a crash tells again, so a listener must be idempotent). Runs before the
 * message is marked sent; a listener's failure is logged and never fails the post.
 */
export type PostedListener = (message: OutboundMessage, result: PostResult) => Promise<void>;
