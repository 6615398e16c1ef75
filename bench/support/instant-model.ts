import { randomUUID } from 'node:crypto';
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, type BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';

/** A zero-latency chat model: answers at once, so a benchmark measures everything but the model. */
export class InstantChatModel extends BaseChatModel {
  /** No tools are called; binding them changes nothing. */
  override bindTools(): this {
    return this;
  }

  _llmType(): string {
    return 'instant';
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const text = `ok (${messages.length} messages)`;
    return { generations: [{ text, message: new AIMessage({ id: `instant-${randomUUID()}`, content: text }) }] };
  }
}
