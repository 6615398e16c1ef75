import { randomUUID } from 'node:crypto';
import { deliverInbound } from '../../core/chat/inbound.js';
import type { IngressSink } from '../../core/chat/types.js';
import type { Logger } from '../../core/log.js';
import type { Metrics } from '../../core/metrics.js';
import type { ChatMessage, ChatStore } from './store.js';
import { encodeLocalThreadId } from './thread-id.js';

export interface LocalMessageDeps {
  store: ChatStore;
  ingress: IngressSink;
  logger: Pick<Logger, 'warn' | 'error'>;
  metrics?: Pick<Metrics, 'inboundFailures'>;
}

/**
 * A message typed into the local chat (the HTTP API, `pantheon mcp`'s `ask`): recorded and queued
 * by the ingress, shown in the chat in between, so once recorded it is answered whatever happens
 * next. A retried message (same `clientId`) shows what a failed first try did not. `stored: false`:
 * it could not be stored, and the sender should send it again.
 */
export async function acceptLocalMessage(
  deps: LocalMessageDeps,
  m: { conversation: string; user: string; text: string; clientId?: string },
): Promise<{ id: string; stored: boolean; shown?: ChatMessage }> {
  const id = `local:${m.conversation}:${m.clientId ?? randomUUID()}`;
  let shown: ChatMessage | undefined;
  const show = async () => {
    shown = (await deps.store.append({ id, conversation: m.conversation, role: 'user', author: m.user, text: m.text })).message;
  };
  const result = await deliverInbound(
    deps.ingress,
    { id, platform: 'local', threadId: encodeLocalThreadId(m.conversation), author: { id: m.user, name: m.user }, text: m.text, receivedAt: new Date().toISOString() },
    { recorded: show, redelivery: 'platform', logger: deps.logger, metrics: deps.metrics },
  );
  if (!result.ack) return { id, stored: false };
  if (!shown) await show();
  return { id, stored: true, shown };
}
