import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { storableText } from '../../core/db/storable-text.js';
import type { IngressSink } from '../types.js';
import { publicMessage, type ChatStore } from './store.js';
import { CONVERSATION_NAME_RULE, encodeLocalThreadId, isConversationName } from './thread-id.js';

/** Strings as they will be stored (NUL removed, lone surrogates replaced: see storable-text.ts), then checked. */
const stored = (schema: z.ZodType<string>) => z.preprocess((v) => (typeof v === 'string' ? storableText(v) : v), schema);

const PostBody = z.object({
  text: stored(z.string().trim().min(1, 'text must not be empty')),
  user: stored(z.string().trim().min(1).max(128)).default('anonymous'),
  /** Optional client id: posting the same id twice stores and processes the message once. */
  id: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/).optional(),
});

export interface LocalChatRoutesOptions {
  store: ChatStore;
  ingress: IngressSink;
  /** How often SSE streams look for messages written by other processes. */
  pollIntervalMs?: number;
  heartbeatMs?: number;
}

function badRequest(reply: FastifyReply, message: string) {
  return reply.code(400).send({ error: { code: 'bad_request', message, requestId: reply.request.id } });
}

/** The local chat HTTP API of PRODUCT.md: POST and GET messages, and an SSE stream. */
export function registerLocalChatRoutes(app: FastifyInstance, opts: LocalChatRoutesOptions): void {
  const { store, ingress } = opts;
  const pollIntervalMs = opts.pollIntervalMs ?? 1000;
  const heartbeatMs = opts.heartbeatMs ?? 15000;

  app.post<{ Params: { conversation: string } }>('/api/chat/:conversation/messages', async (req, reply) => {
    const { conversation } = req.params;
    if (!isConversationName(conversation)) return badRequest(reply, `invalid conversation name "${conversation}": ${CONVERSATION_NAME_RULE}`);
    const parsed = PostBody.safeParse(req.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return badRequest(reply, `${issue.path.join('.') || 'body'}: ${issue.message}`);
    }
    const { text, user } = parsed.data;
    const id = `local:${conversation}:${parsed.data.id ?? randomUUID()}`;
    // Recorded and queued by the ingress, shown in the chat in between: once recorded, it is
    // answered whatever happens next. A retried POST (same id) shows what a failed first try did not.
    let shown = false;
    const show = async () => {
      await store.append({ id, conversation, role: 'user', author: user, text });
      shown = true;
    };
    await ingress({
      id,
      channel: 'local',
      threadId: encodeLocalThreadId(conversation),
      author: { id: user, name: user },
      text,
      receivedAt: new Date().toISOString(),
    }, { recorded: show });
    if (!shown) await show();
    return reply.code(202).send({ id });
  });

  app.get<{ Params: { conversation: string }; Querystring: { limit?: string } }>(
    '/api/chat/:conversation/messages',
    async (req, reply) => {
      const { conversation } = req.params;
      if (!isConversationName(conversation)) return badRequest(reply, `invalid conversation name "${conversation}": ${CONVERSATION_NAME_RULE}`);
      const limit = Math.min(Math.max(Number(req.query.limit ?? 1000) || 1000, 1), 10000);
      const messages = await store.tail(conversation, limit);
      return { messages: messages.map(publicMessage) };
    },
  );

  app.get<{ Params: { conversation: string } }>('/api/chat/:conversation/stream', async (req, reply) => {
    const { conversation } = req.params;
    if (!isConversationName(conversation)) return badRequest(reply, `invalid conversation name "${conversation}": ${CONVERSATION_NAME_RULE}`);
    // A reconnecting EventSource sends the last seq it saw; a fresh stream starts with what comes next.
    const lastEventId = Number(req.headers['last-event-id']);
    let lastSeq = Number.isFinite(lastEventId) && lastEventId > 0
      ? lastEventId
      : ((await store.tail(conversation, 1))[0]?.seq ?? 0);

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': req.id,
    });
    res.write(': connected\n\n');

    let closed = false;
    let draining: Promise<void> | null = null;
    let again = false;
    const drain = (): Promise<void> => {
      if (draining) { again = true; return draining; }
      draining = (async () => {
        do {
          again = false;
          const fresh = await store.list(conversation, { afterSeq: lastSeq });
          for (const m of fresh) {
            if (closed) return;
            lastSeq = m.seq;
            res.write(`id: ${m.seq}\nevent: message\ndata: ${JSON.stringify(publicMessage(m))}\n\n`);
          }
        } while (again && !closed);
      })().catch((err) => req.log.warn({ err }, 'sse drain failed')).finally(() => { draining = null; });
      return draining;
    };
    const onChange = () => void drain();
    store.changes.on(conversation, onChange);
    const poll = setInterval(onChange, pollIntervalMs);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
    poll.unref();
    heartbeat.unref();
    const close = () => {
      if (closed) return;
      closed = true;
      store.changes.off(conversation, onChange);
      clearInterval(poll);
      clearInterval(heartbeat);
    };
    req.raw.on('close', close);
    res.on('close', close);
    void drain();
  });
}
