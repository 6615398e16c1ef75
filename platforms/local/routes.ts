import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { storableText } from '../../core/db/storable-text.js';
import type { IngressSink } from '../../core/chat/types.js';
import { HttpError } from '../../core/http/errors.js';
import { sessionOf } from '../../core/http/principal.js';
import { hideLoginLinks } from '../../core/http/sign-in-page.js';
import type { Metrics } from '../../core/metrics.js';
import { publicMessage, type ChatStore } from './store.js';
import { registerChatStream, type ChatStreamOptions } from './stream-route.js';
import { CONVERSATION_NAME_RULE, isConversationName } from './thread-id.js';
import { acceptLocalMessage } from './accept.js';

/** Strings as they will be stored (NUL removed, lone surrogates replaced: see storable-text.ts), then checked. */
const stored = (schema: z.ZodType<string>) => z.preprocess((v) => (typeof v === 'string' ? storableText(v) : v), schema);

const PostBody = z.object({
  text: stored(z.string().trim().min(1, 'text must not be empty')),
  user: stored(z.string().trim().min(1).max(128)).default('anonymous'),
  /** Optional client id: posting the same id twice stores and processes the message once. */
  id: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/)
    .optional(),
});

export interface LocalChatRoutesOptions extends Omit<ChatStreamOptions, 'store'> {
  store: ChatStore;
  ingress: IngressSink;
  /** Counts messages the ingress could not store (`pantheon_inbound_failures_total`). */
  metrics?: Pick<Metrics, 'inboundFailures'>;
}

function badRequest(reply: FastifyReply, message: string) {
  return reply.code(400).send({ error: { code: 'bad_request', message, requestId: reply.request.id } });
}

/**
 * Stores a message typed in the local chat and hands it to the ingress, as the chat API and the
 * console do. Returns the message id (`local:<conversation>:<client id or a new uuid>`).
 */
export async function postLocalMessage(
  deps: { store: ChatStore; ingress: IngressSink; metrics?: Pick<Metrics, 'inboundFailures'>; logger: FastifyBaseLogger },
  message: { conversation: string; text: string; user: string; clientId?: string },
): Promise<string> {
  const { id, stored } = await acceptLocalMessage(deps, message);
  // Not stored: the client is told to send it again (the same `id` is taken once).
  if (!stored) throw new HttpError(503, 'unavailable', 'the message could not be stored; send it again (with the same "id" it is taken once)');
  return id;
}

/** The local chat HTTP API of PRODUCT.md: POST and GET messages, and an SSE stream. */
export function registerLocalChatRoutes(app: FastifyInstance, opts: LocalChatRoutesOptions): void {
  const { store, ingress } = opts;

  app.post<{ Params: { conversation: string } }>('/api/chat/:conversation/messages', async (req, reply) => {
    const { conversation } = req.params;
    if (!isConversationName(conversation)) return badRequest(reply, `invalid conversation name "${conversation}": ${CONVERSATION_NAME_RULE}`);
    const parsed = PostBody.safeParse(req.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return badRequest(reply, `${issue.path.join('.') || 'body'}: ${issue.message}`);
    }
    // A signed-in human posts as themself, whatever the body says.
    const user = sessionOf(req)?.humanId ?? parsed.data.user;
    const id = await postLocalMessage({ store, ingress, metrics: opts.metrics, logger: req.log }, { conversation, text: parsed.data.text, user, clientId: parsed.data.id });
    return reply.code(202).send({ id });
  });

  app.get<{ Params: { conversation: string }; Querystring: { limit?: string } }>('/api/chat/:conversation/messages', async (req, reply) => {
    const { conversation } = req.params;
    if (!isConversationName(conversation)) return badRequest(reply, `invalid conversation name "${conversation}": ${CONVERSATION_NAME_RULE}`);
    const limit = Math.min(Math.max(Number(req.query.limit ?? 1000) || 1000, 1), 10000);
    const messages = await store.tail(conversation, limit);
    const shown = messages.map(publicMessage);
    // A console session never reads sign-in links (someone else's, sent to their direct messages).
    return { messages: sessionOf(req) ? shown.map((m) => ({ ...m, text: hideLoginLinks(m.text) })) : shown };
  });

  registerChatStream(app, opts);
}
