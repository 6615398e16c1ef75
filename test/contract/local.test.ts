import { after, before, describe } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { LocalAdapter } from '../../platforms/local/adapter.js';
import { registerLocalChatRoutes } from '../../platforms/local/routes.js';
import { ChatStore } from '../../platforms/local/store.js';
import { startDurableIngress, type DurableIngress } from './durable-ingress.js';
import { inboundContract } from './inbound-suite.js';
import { outboundContract, type ShownMessage } from './outbound-suite.js';

/**
 * The embedded chat: the adapter writes to Pantheon's own database (`chat_messages`), people
 * post through `POST /api/chat/{conversation}/messages`. Its "platform" is the HTTP client.
 */
const CONVERSATION = 'contract';

const shown = async (store: ChatStore): Promise<ShownMessage[]> => (await store.tail(CONVERSATION, 10_000)).filter((m) => m.role !== 'user').map((m) => ({ id: m.id, text: m.text, buttons: [] }));

outboundContract(
  'local',
  {
    postOnceAfterRestart: true,
    resumeAfterFailure: { missing: "a post is one insert into Pantheon's own database: there is no midway to fail at" },
    edit: true,
    buttons: { missing: 'the embedded chat (its API and the console) shows text; the console approves on its own page' },
    cardFallback: { missing: 'no buttons, so nothing to refuse: the card is always its text' },
    split: { missing: 'the embedded chat stores a message whole, whatever its length' },
    retryAfter: { missing: "Pantheon's own database has no rate limits" },
  },
  async () => {
    const durable = await startDurableIngress();
    const store = new ChatStore(durable.pool);
    return {
      platform: {
        adapter: new LocalAdapter(store),
        threadId: `local:${CONVERSATION}`,
        messages: () => shown(store),
        restarted: async () => new LocalAdapter(new ChatStore(durable.pool)),
      },
      close: () => durable.close(),
    };
  },
);

describe('local chat inbound', () => {
  let durable: DurableIngress;
  let n = 0;
  before(async () => {
    durable = await startDurableIngress();
  });
  after(async () => {
    await durable.close();
  });

  inboundContract('local', { redelivery: 'platform', acknowledgement: true }, async (ctx) => {
    const http: FastifyInstance = Fastify();
    registerLocalChatRoutes(http, { store: new ChatStore(durable.pool), ingress: ctx.ingress, metrics: ctx.metrics });
    const url = await http.listen({ host: '127.0.0.1', port: 0 });
    const posts = new Map<string, { body: string; status?: number }>();
    const post = (envelopeId: string) => {
      const entry = posts.get(envelopeId)!;
      entry.status = undefined;
      // A request cut short by the session stopping simply has no answer.
      void fetch(`${url}/api/chat/${CONVERSATION}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: entry.body }).then(
        async (res) => {
          await res.arrayBuffer();
          entry.status = res.status;
        },
        () => {},
      );
    };
    return {
      async say(text) {
        const id = `m-${Date.now()}-${n++}`;
        const envelopeId = `local:${CONVERSATION}:${id}`;
        posts.set(envelopeId, { body: JSON.stringify({ text, user: 'jeff', id }) });
        post(envelopeId);
        return { envelopeId };
      },
      acked: (said) => posts.get(said.envelopeId)!.status === 202,
      // The client sends it again with the same id (after a 503, or a lost answer).
      async redeliver(said) {
        post(said.envelopeId);
      },
      stop: () => http.close(),
    };
  });
});
