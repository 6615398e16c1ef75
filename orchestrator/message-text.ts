import type { BaseMessage } from '@langchain/core/messages';

/** The plain text of a LangChain message, whether its content is a string or content blocks. */
export function messageText(message: BaseMessage | undefined): string {
  if (!message) return '';
  const content = message.content as unknown;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((block) => (typeof block === 'string' ? block : block && typeof block === 'object' && 'text' in block ? String(block.text) : '')).join('');
  }
  return '';
}

/** OpenAI allows only [A-Za-z0-9_-] in a message author name. */
export function authorName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'user';
}
