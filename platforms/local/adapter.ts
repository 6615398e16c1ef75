import type { PlatformAdapter, OutboundMessage, PostResult } from '../../core/chat/types.js';
import type { ChatStore } from './store.js';
import { decodeLocalThreadId, encodeLocalThreadId, localDirectThreadId } from './thread-id.js';

/** The embedded chat: the team posts into the local message store, which the HTTP API and SSE serve. */
export class LocalAdapter implements PlatformAdapter {
  readonly name = 'local';
  /** A post is an idempotent insert into our own database: nothing to retry, nothing to queue. */
  readonly durablePost = true;

  constructor(private readonly store: ChatStore) {}

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async post(message: OutboundMessage): Promise<PostResult> {
    const { conversation } = decodeLocalThreadId(message.threadId);
    const { message: stored, inserted } = await this.store.append({
      id: message.idempotencyKey,
      conversation,
      role: message.role,
      author: message.persona ?? 'pantheon',
      persona: message.persona,
      text: message.text,
      replyTo: message.replyTo,
    });
    return { id: stored.id, duplicate: !inserted };
  }

  /** Edits in place; a message not stored yet (its post was lost) is posted under that id. */
  async edit(threadId: string, messageId: string, message: OutboundMessage): Promise<void> {
    const updated = await this.store.update(messageId, message.text);
    if (!updated) await this.post({ ...message, threadId, idempotencyKey: messageId, replaces: undefined });
  }

  encodeThreadId(parts: Record<string, string>): string {
    return encodeLocalThreadId(parts.conversation ?? '');
  }

  decodeThreadId(threadId: string): Record<string, string> {
    return decodeLocalThreadId(threadId);
  }

  /** The person's own conversation, `dm-<user>` (their registry id: see `Approvers.addressOn`). */
  directThreadId(userId: string): string | undefined {
    return localDirectThreadId(userId);
  }
}
