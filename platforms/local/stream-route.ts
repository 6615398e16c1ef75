import type { FastifyInstance } from 'fastify';
import { sendError } from '../../core/http/errors.js';
import { openEventStream } from '../../core/http/event-stream.js';
import { sessionOf } from '../../core/http/principal.js';
import { hideLoginLinks } from '../../core/http/sign-in-page.js';
import { ConversationFeeds } from './conversation-feed.js';
import { publicMessage, type ChatStore } from './store.js';
import { credentialOf, StreamSlots } from './stream-slots.js';
import { CONVERSATION_NAME_RULE, isConversationName } from './thread-id.js';

export interface ChatStreamOptions {
  store: ChatStore;
  /** How often each conversation's feed looks for messages written by other processes. */
  pollIntervalMs?: number;
  heartbeatMs?: number;
  /** Open streams one credential may hold (`server.limits.streamsPerCredential`, default 64): past it, 429. */
  maxStreamsPerCredential?: number;
  /** Open streams in the whole process (`server.limits.streamsTotal`, default 1024): past it, 429. */
  maxStreams?: number;
}

/**
 * `GET /api/chat/:conversation/stream`: Server-Sent Events, one `message` event per new or edited
 * message, `id` its position (a reconnect resumes after `Last-Event-ID`). Every stream on a
 * conversation follows that conversation's one feed (conversation-feed.ts); the number of open
 * streams is capped per credential and per process, and a stream past a cap is refused with 429.
 */
export function registerChatStream(app: FastifyInstance, opts: ChatStreamOptions): void {
  const { store } = opts;
  const heartbeatMs = opts.heartbeatMs ?? 15000;
  const slots = new StreamSlots(opts.maxStreamsPerCredential ?? 64, opts.maxStreams ?? 1024);
  const feeds = new ConversationFeeds(store, {
    pollIntervalMs: opts.pollIntervalMs ?? 1000,
    onError: (err) => app.log.warn({ err }, 'chat stream feed failed'),
  });

  app.get<{ Params: { conversation: string } }>('/api/chat/:conversation/stream', async (req, reply) => {
    const { conversation } = req.params;
    if (!isConversationName(conversation)) return sendError(req, reply, 400, 'bad_request', `invalid conversation name "${conversation}": ${CONVERSATION_NAME_RULE}`);
    const slot = slots.take(credentialOf(req));
    if ('refused' in slot) {
      const message =
        slot.refused === 'credential'
          ? `this credential already has ${slots.perCredential} chat streams open; close one (or reuse it: one stream per conversation is enough) and retry`
          : `the server already has ${slots.perProcess} chat streams open; retry later`;
      return sendError(req, reply.header('retry-after', '5'), 429, 'too_many_streams', message);
    }
    // The client may leave while its resume point is looked up: its slot is given back then.
    let left = false;
    const leave = () => {
      left = true;
      slot.release();
    };
    req.raw.on('close', leave);
    reply.raw.on('close', leave);

    // A reconnecting EventSource sends the last seq it saw; a fresh stream starts with what comes next.
    const lastEventId = Number(req.headers['last-event-id']);
    let lastSeq: number;
    try {
      lastSeq = Number.isFinite(lastEventId) && lastEventId > 0 ? lastEventId : ((await store.tail(conversation, 1))[0]?.seq ?? 0);
    } catch (err) {
      slot.release();
      throw err;
    } finally {
      req.raw.off('close', leave);
      reply.raw.off('close', leave);
    }
    if (left) return reply; // the client left while we looked

    const stream = openEventStream(req, reply, heartbeatMs);
    stream.onClose(slot.release);
    // A console session never reads sign-in links (someone else's, sent to their direct messages).
    const shown = sessionOf(req) ? (m: ReturnType<typeof publicMessage>) => ({ ...m, text: hideLoginLinks(m.text) }) : (m: ReturnType<typeof publicMessage>) => m;
    stream.onClose(feeds.subscribe(conversation, lastSeq, (m) => stream.send('message', shown(publicMessage(m)), m.seq)));
  });
}
