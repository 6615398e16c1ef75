import type { NotifierPort } from '../../core/chat/notices.js';
import type { PostedListener } from '../../core/chat/outbox.js';
import type { HumanConfig } from '../../core/config/schema.js';

/** `@jeff` as a word of its own (not an e-mail address, not `@jeffrey`). */
function mentions(text: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w@.])@${escaped}(?![\\w-])`, 'i').test(text);
}

/**
 * An after-post listener: a persona's message that @mentions a human (by their `humans:` id or
 * their user id on the thread's platform) becomes a `mentions` notice for them, through the
 * notifier, so someone who asked for mentions hears of it where they are.
 */
export function mentionNotices(deps: { notifier: NotifierPort; humans: readonly HumanConfig[] }): PostedListener {
  const wanting = deps.humans.filter((h) => h.notify?.kinds.includes('mentions'));
  return async (message) => {
    if (message.role !== 'agent' || !wanting.length) return;
    const platform = message.platform;
    const named = wanting.filter((h) => {
      const own = (h as unknown as Record<string, unknown>)[platform];
      return mentions(message.text, h.id) || (typeof own === 'string' && own !== '' && mentions(message.text, own));
    });
    if (!named.length) return;
    const text = `${message.persona ?? 'The team'} mentioned you: ${message.text.length > 300 ? `${message.text.slice(0, 299)}…` : message.text}`;
    await deps.notifier.notify({ kind: 'mentions', key: `mention:${message.idempotencyKey}`, text, to: named.map((h) => h.id), thread: message.threadId });
  };
}
