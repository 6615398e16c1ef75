import { MAX_CONVERSATION_ID_LENGTH } from '../../core/http/path-params.js';

/** Local chat thread ids: `local:{conversation}`. */
const CONVERSATION = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${MAX_CONVERSATION_ID_LENGTH - 1}}$`);

/** What a conversation name may be, for error messages. */
export const CONVERSATION_NAME_RULE = `use letters, digits, '.', '_' or '-', starting with a letter or digit, at most ${MAX_CONVERSATION_ID_LENGTH} characters`;

export function isConversationName(name: string): boolean {
  return CONVERSATION.test(name);
}

export function encodeLocalThreadId(conversation: string): string {
  if (!isConversationName(conversation)) throw new Error(`invalid local conversation name: ${JSON.stringify(conversation)}`);
  return `local:${conversation}`;
}

export function decodeLocalThreadId(threadId: string): { conversation: string } {
  const m = /^local:(.+)$/.exec(threadId);
  if (!m || !isConversationName(m[1]!)) throw new Error(`not a local thread id: ${JSON.stringify(threadId)}`);
  return { conversation: m[1]! };
}

/**
 * A person's own conversation, `dm-<user>`: where approval requests reach an approver privately
 * (the adapter's `directThreadId`). Undefined when the name would not be a valid conversation.
 */
export function localDirectThreadId(userId: string): string | undefined {
  const conversation = `dm-${userId}`;
  return isConversationName(conversation) ? encodeLocalThreadId(conversation) : undefined;
}
