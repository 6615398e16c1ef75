import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { z } from 'zod';
import type { IngressSink } from '../core/chat/types.js';
import { sendError } from '../core/http/errors.js';
import { openEventStream } from '../core/http/event-stream.js';
import { sessionOf, type SessionVerifier } from '../core/http/principal.js';
import { hideLoginLinks } from '../core/http/sign-in-page.js';
import type { Metrics } from '../core/metrics.js';
import { postLocalMessage } from '../platforms/local/routes.js';
import type { ChatStore } from '../platforms/local/store.js';
import { credentialOf, StreamSlots } from '../platforms/local/stream-slots.js';
import { CONVERSATION_NAME_RULE, isConversationName } from '../platforms/local/thread-id.js';
import { listConversations, type ConversationSummary } from './conversation-list.js';
import { threadTimeline, type TimelineEntry, type ToolResults } from './timeline.js';
import { TimelineFeeds } from './timeline-feed.js';
import { endWithSession } from './event-stream.js';

export interface ConversationRoutesOptions {
  pool: pg.Pool;
  store: ChatStore;
  ingress: IngressSink;
  metrics?: Pick<Metrics, 'inboundFailures'>;
  results: ToolResults;
  maxStreamsPerCredential: number;
  maxStreams: number;
  pollIntervalMs?: number;
  /** A session's streams end with the session. */
  sessions: SessionVerifier;
}

const ListQuery = z.object({
  platform: z.string().trim().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const DetailQuery = z.object({ limit: z.coerce.number().int().min(1).max(5000).default(500) });
const PostBody = z.object({
  text: z.string().trim().min(1, 'text must not be empty').max(100_000),
  id: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/)
    .optional(),
});

/**
 * `/api/conversations` (every platform, newest activity first), `/api/conversations/:id` (the
 * timeline: messages, handoffs, tool calls with results, approvals), its SSE stream, and posting
 * into a local conversation as the signed-in human. See docs/api.md.
 */
export function registerConversationRoutes(app: FastifyInstance, opts: ConversationRoutesOptions): void {
  const { pool } = opts;
  const read = (thread: string, since?: Date, limit = 500) => threadTimeline(pool, thread, { limit, since, results: opts.results });
  const feeds = new TimelineFeeds((thread, since) => read(thread, since, 200), {
    pollIntervalMs: opts.pollIntervalMs ?? 1000,
    onError: (err) => app.log.warn({ err }, 'conversation stream feed failed'),
  });
  const slots = new StreamSlots(opts.maxStreamsPerCredential, opts.maxStreams);

  app.get('/api/conversations', async (req, reply) => {
    const q = ListQuery.safeParse(req.query ?? {});
    if (!q.success) return sendError(req, reply, 400, 'bad_request', `${q.error.issues[0]!.path.join('.')}: ${q.error.issues[0]!.message}`);
    const conversations = await listConversations(pool, { limit: q.data.limit, platform: q.data.platform });
    return { conversations: conversations.map((c) => shownSummary(req, c)) };
  });

  app.get<{ Params: { id: string } }>('/api/conversations/:id', async (req, reply) => {
    const q = DetailQuery.safeParse(req.query ?? {});
    if (!q.success) return sendError(req, reply, 400, 'bad_request', `limit: ${q.error.issues[0]!.message}`);
    const [conversation] = await listConversations(pool, { limit: 1, only: req.params.id });
    if (!conversation) return sendError(req, reply, 404, 'not_found', `no conversation ${req.params.id}`);
    const timeline = await read(req.params.id, undefined, q.data.limit);
    return { conversation: shownSummary(req, conversation), timeline: timeline.map((e) => shownEntry(req, e)) };
  });

  app.get<{ Params: { id: string } }>('/api/conversations/:id/stream', async (req, reply) => {
    const slot = slots.take(credentialOf(req));
    if ('refused' in slot) {
      return sendError(req, reply.header('retry-after', '5'), 429, 'too_many_streams', 'too many open streams; close one and retry');
    }
    const stream = openEventStream(req, reply);
    stream.onClose(slot.release);
    endWithSession(req, stream, opts.sessions);
    try {
      const unsubscribe = await feeds.subscribe(req.params.id, (entry) => stream.send(entry.kind, shownEntry(req, entry)));
      stream.onClose(unsubscribe);
    } catch (err) {
      stream.close();
      throw err;
    }
  });

  app.post<{ Params: { id: string } }>('/api/conversations/:id/messages', async (req, reply) => {
    const session = sessionOf(req);
    if (!session) return sendError(req, reply, 403, 'needs_session', 'posting into a conversation is done as a signed-in human; scripts use POST /api/chat/:conversation/messages');
    const thread = req.params.id;
    if (!thread.startsWith('local:')) {
      return sendError(req, reply, 409, 'conflict', `the console posts only into local conversations: it cannot speak as you on ${thread.split(':')[0]}`);
    }
    const conversation = thread.slice('local:'.length);
    if (!isConversationName(conversation)) return sendError(req, reply, 400, 'bad_request', `invalid conversation name "${conversation}": ${CONVERSATION_NAME_RULE}`);
    const body = PostBody.safeParse(req.body ?? {});
    if (!body.success) return sendError(req, reply, 400, 'bad_request', `${body.error.issues[0]!.path.join('.') || 'body'}: ${body.error.issues[0]!.message}`);
    const id = await postLocalMessage(
      { store: opts.store, ingress: opts.ingress, metrics: opts.metrics, logger: req.log },
      { conversation, text: body.data.text, user: session.humanId, clientId: body.data.id },
    );
    return reply.code(202).send({ id });
  });
}

/** What a session reads: sign-in links hidden (they belong in one person's direct messages). */
function shownEntry(req: FastifyRequest, entry: TimelineEntry): TimelineEntry {
  if (!sessionOf(req) || entry.kind !== 'message') return entry;
  return { ...entry, text: hideLoginLinks(entry.text) };
}

function shownSummary(req: FastifyRequest, c: ConversationSummary): ConversationSummary {
  if (!sessionOf(req) || !c.lastMessage) return c;
  return { ...c, lastMessage: { ...c.lastMessage, text: hideLoginLinks(c.lastMessage.text) } };
}
