/**
 * Telegram thread ids: `telegram:{chatId}` for a chat, `telegram:{chatId}:{topicId}` for a
 * forum topic (`message_thread_id`). Chat ids are integers, negative for groups
 * (`-1001234567890`); topic ids are positive integers.
 */
export interface TelegramThread {
  chatId: string;
  topicId?: string;
}

const CHAT_ID = /^-?\d{1,20}$/;
const TOPIC_ID = /^\d{1,20}$/;

export function encodeTelegramThreadId(parts: Record<string, string | undefined>): string {
  const { chatId, topicId } = parts;
  if (!chatId || !CHAT_ID.test(chatId)) throw new Error(`invalid Telegram chat id: ${JSON.stringify(chatId)}`);
  if (topicId === undefined || topicId === '') return `telegram:${chatId}`;
  if (!TOPIC_ID.test(topicId)) throw new Error(`invalid Telegram topic id: ${JSON.stringify(topicId)}`);
  return `telegram:${chatId}:${topicId}`;
}

export function decodeTelegramThreadId(threadId: string): TelegramThread {
  const m = /^telegram:(-?\d{1,20})(?::(\d{1,20}))?$/.exec(threadId);
  if (!m) throw new Error(`not a Telegram thread id: ${JSON.stringify(threadId)}`);
  return m[2] ? { chatId: m[1]!, topicId: m[2] } : { chatId: m[1]! };
}
