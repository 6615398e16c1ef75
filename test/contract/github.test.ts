import { after, before, describe } from 'node:test';
import Fastify from 'fastify';
import { Octokit } from 'octokit';
import { GitHubAdapter } from '../../platforms/github/adapter.js';
import { GitHubAuthoriser } from '../../platforms/github/authorise.js';
import { GitHubDeliveries, GITHUB_EVENTS_QUEUE, type GitHubEventJob } from '../../platforms/github/deliveries.js';
import { GitHubInbound } from '../../platforms/github/inbound.js';
import { mapWebhook, type WebhookPayload } from '../../platforms/github/map-webhook.js';
import { SeenActivities } from '../../platforms/github/seen.js';
import { registerGitHubWebhook } from '../../platforms/github/webhook-route.js';
import type { Envelope, IngressSink } from '../../core/chat/types.js';
import { createLogger } from '../../core/log.js';
import { MemoryQueue } from '../../core/queue/index.js';
import { GitHubIdentities } from '../../github/identities.js';
import type { Persona } from '../../core/config/persona-schema.js';
import { startFakeGitHub } from '../fakes/github/index.js';
import { RecordingOutbox } from '../tools/recording-outbox.js';
import { startDurableIngress, until, type DurableIngress } from './durable-ingress.js';
import { inboundContract } from './inbound-suite.js';
import { outboundContract, type ShownMessage } from './outbound-suite.js';

/**
 * GitHub against its fake (REST and signed webhooks), through the real octokit: each persona
 * posts with its own token (athena speaks for the system), as github/module.ts wires it, with
 * production's throttling and retries on (so a 429 is waited out).
 */
const silent = createLogger({ level: 'silent' });
const SECRET = 'contract-github-webhook-secret';
const persona = (id: string, login: string): Persona => ({ id, name: id, role: 'developer', description: id, prompt: id, tools: [], handles: {}, github: { login, token: `tok-${login}` } });
const personas = [persona('apollo', 'apollo-bot'), persona('athena', 'athena-bot')];

async function world() {
  const gh = await startFakeGitHub();
  for (const login of ['apollo-bot', 'athena-bot', 'jeff']) gh.addUser(login, { token: `tok-${login}` });
  await gh.createRepo('acme', 'api', { 'README.md': '# api\n' });
  for (const login of ['apollo-bot', 'athena-bot']) gh.setPermission('acme', 'api', login, 'write');
  gh.setPermission('acme', 'api', 'jeff', 'admin');
  const jeff = new Octokit({ auth: 'tok-jeff', baseUrl: gh.url, throttle: { enabled: false }, retry: { enabled: false } });
  const issue = (await jeff.rest.issues.create({ owner: 'acme', repo: 'api', title: 'Rate limiting' })).data.number;
  const identities = () => new GitHubIdentities(personas, { config: { apiUrl: gh.url, throttle: true }, logger: silent });
  return { gh, jeff, issue, identities };
}

/** A comment's text without the hidden idempotency marker. */
const visible = (body: string) => body.replace(/\n*<!-- pantheon:[^>]* -->\s*$/, '');

outboundContract(
  'github',
  {
    // The key is recorded (github_comments) before posting and each comment carries a marker:
    // a restarted adapter finds the comment instead of posting again.
    postOnceAfterRestart: true,
    resumeAfterFailure: true,
    edit: true,
    buttons: { missing: 'issue and pull request comments have no buttons: an approval request says how to answer by typing' },
    cardFallback: { missing: 'no buttons, so nothing to refuse: the card is always its text' },
    split: { limit: 65_000 },
    retryAfter: true,
  },
  async () => {
    const w = await world();
    const durable = await startDurableIngress();
    const adapter = () => new GitHubAdapter({ pool: durable.pool, identities: w.identities(), logger: silent, systemPersona: 'athena' });
    const comments = /^\/repos\/acme\/api\/issues\/\d+\/comments$/;
    return {
      platform: {
        adapter: adapter(),
        threadId: `github:acme/api#${w.issue}`,
        messages: async () =>
          w.gh
            .comments('acme', 'api', w.issue)
            .filter((c) => c.author !== 'jeff')
            .map((c): ShownMessage => ({ id: String(c.id), text: visible(c.body), buttons: [] })),
        restarted: async () => adapter(),
        rateLimitNext: (seconds) =>
          w.gh.injectFailure({
            method: 'POST',
            path: comments,
            status: 429,
            headers: { 'retry-after': String(seconds) },
            body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: 'https://docs.github.com/rest' },
          }),
        // 422 is not retried by octokit: the post fails, as when it dies midway.
        failNextPart: (index) => w.gh.injectFailure({ method: 'POST', path: comments, status: 422, after: index }),
      },
      close: async () => {
        await durable.close();
        await w.gh.close();
      },
    };
  },
);

describe('github inbound (webhooks)', () => {
  let w: Awaited<ReturnType<typeof world>>;
  let db: DurableIngress;
  before(async () => {
    w = await world();
    // GitHub's own tables (deliveries, claims, permissions), apart from the contract's ingress.
    db = await startDurableIngress();
  });
  after(async () => {
    await db.close();
    await w.gh.close();
  });

  inboundContract('github', { redelivery: 'platform', acknowledgement: true }, async (ctx) => {
    const identities = w.identities();
    const seen: Envelope[] = [];
    const ingress: IngressSink = (e, o) => {
      seen.push(e);
      return ctx.ingress(e, o);
    };
    const inbound = new GitHubInbound({
      logger: ctx.logger,
      ingress,
      outbox: new RecordingOutbox(),
      identities,
      authoriser: new GitHubAuthoriser({ pool: db.pool, logger: silent, humanLogins: [], isPersonaLogin: (l) => !!identities.personaByLogin(l), cacheSeconds: 60 }),
      seen: new SeenActivities(db.pool),
      work: async () => {},
      metrics: ctx.metrics,
    });
    // The webhook job as github/module.ts runs it: a stored delivery → activities → the pipeline; throws to be retried.
    const queue = new MemoryQueue();
    const deliveries = new GitHubDeliveries({ pool: db.pool, queue });
    await queue.process<GitHubEventJob, void>(GITHUB_EVENTS_QUEUE, async (job) => {
      const delivery = await deliveries.get(job.data.deliveryId);
      if (!delivery || delivery.status !== 'pending') return;
      for (const a of mapWebhook(delivery.event, delivery.payload as WebhookPayload, identities)) await inbound.handle(a, `delivery:${delivery.id}`);
      await deliveries.finish(delivery.id);
    });
    const http = Fastify();
    registerGitHubWebhook(http, { secret: SECRET, deliveries });
    const url = await http.listen({ host: '127.0.0.1', port: 0 });
    w.gh.setWebhook(`${url}/webhooks/github`, SECRET);
    const deliveryOf = (text: string) => w.gh.deliveries.filter((d) => d.event === 'issue_comment' && String(d.payload.comment?.body ?? '').includes(text));
    const texts = new Map<string, string>();
    return {
      async say(text) {
        await w.jeff.rest.issues.createComment({ owner: 'acme', repo: 'api', issue_number: w.issue, body: `@apollo-bot ${text}` });
        // The envelope quotes the comment as untrusted content (mentions defused): find it by its words.
        const words = text.replace(/^@\S+ /, '');
        const envelope = await until(() => seen.find((e) => e.text.includes(words)), 'the comment to reach the ingress');
        texts.set(envelope.id, text);
        return { envelopeId: envelope.id };
      },
      // GitHub is answered (2xx) once the signed delivery is stored in github_deliveries.
      acked: (said) => {
        const d = deliveryOf(texts.get(said.envelopeId)!).at(-1);
        return !!d?.status && d.status >= 200 && d.status < 300;
      },
      async keptBeforeEnvelope(said) {
        const d = deliveryOf(texts.get(said.envelopeId)!)[0];
        return !!d && !!(await deliveries.get(d.id));
      },
      // GitHub sends a delivery again under the same X-GitHub-Delivery (a redelivery); a delivery
      // not yet turned into an envelope is retried by its queue job.
      async redeliver(said) {
        const d = deliveryOf(texts.get(said.envelopeId)!)[0]!;
        await w.gh.sendWebhook(d.event, d.payload, { deliveryId: d.id });
      },
      async stop() {
        await queue.close();
        await http.close();
      },
    };
  });
});
