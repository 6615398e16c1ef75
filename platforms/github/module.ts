import type { ModuleFactory } from '../../core/modules/types.js';
import { GitHubAdapter } from './adapter.js';
import { GitHubAuthoriser } from './authorise.js';
import { GitHubDeliveries, GITHUB_EVENTS_QUEUE, type GitHubEventJob } from './deliveries.js';
import { GitHubIdentities } from '../../github/identities.js';
import { GitHubInbound } from './inbound.js';
import { LedgerSync } from '../../github/ledger-sync.js';
import { mapWebhook, type WebhookPayload } from './map-webhook.js';
import { OriginMirror } from '../../github/origin-mirror.js';
import { NotificationPoller } from './polling.js';
import { SeenActivities } from './seen.js';
import { registerGitHubWebhook } from './webhook-route.js';
import { WorkLedger } from '../../ledger/index.js';

/**
 * The GitHub platform module: `POST /webhooks/github` (with `github.webhookSecret`), notifications
 * polling (with `github.polling.enabled`), and the adapter that posts as each persona. Null
 * unless some persona has a GitHub login and one of the two inbound paths is configured.
 */
export const githubModule: ModuleFactory = (ctx) => {
  const { config, personas } = ctx.loaded;
  const gh = config.github;
  if (!personas.some((p) => p.github?.login) || !(gh.webhookSecret || gh.polling.enabled)) return null;

  const logger = ctx.logger.child({ component: 'github' });
  const ledger = new WorkLedger(ctx.pool);
  const identities = new GitHubIdentities(personas, { config: gh, logger });
  const isCommand = (text: string) => !!ctx.commands.match(text);
  // The work ledger follows GitHub from outside the adapter: the inbound pipeline reports what
  // activities did to tracked work, and the outbox's after-post hook tells the origin mirror what
  // personas said on GitHub. The adapter only posts.
  const sync = new LedgerSync({ ledger, outbox: ctx.outbox, notifier: ctx.notifier });
  const mirror = new OriginMirror({ ledger, outbox: ctx.outbox, identities, logger });
  ctx.outbox.onPosted?.((message, result) => mirror.posted(message, result));
  const inbound = new GitHubInbound({
    logger,
    ingress: ctx.ingress,
    outbox: ctx.outbox,
    identities,
    authoriser: new GitHubAuthoriser({
      pool: ctx.pool,
      logger,
      humanLogins: config.humans.map((h) => h.github).filter((l): l is string => !!l),
      isPersonaLogin: (login) => !!identities.personaByLogin(login),
      cacheSeconds: gh.permissionCacheSeconds,
    }),
    seen: new SeenActivities(ctx.pool),
    work: (event) => sync.handle(event),
    metrics: ctx.metrics,
  });
  const deliveries = new GitHubDeliveries({ pool: ctx.pool, queue: ctx.queue });
  const adapter = new GitHubAdapter({
    pool: ctx.pool,
    identities,
    logger,
    systemPersona: config.orchestrator.defaultPersona,
  });
  // One poller per persona with a token, each held by one replica at a time (the replicas share them out).
  const pollers = gh.polling.enabled
    ? identities
        .withToken()
        .map((p) => ({ persona: p.id, poller: new NotificationPoller({ pool: ctx.pool, logger, identities, inbound, intervalSeconds: gh.polling.intervalSeconds, isCommand, persona: p.id }) }))
    : [];

  /** A stored delivery → activities → the pipeline. Throws to be retried by the queue. */
  const processDelivery = async (deliveryId: string) => {
    const delivery = await deliveries.get(deliveryId);
    if (!delivery || delivery.status !== 'pending') return;
    const activities = mapWebhook(delivery.event, delivery.payload as WebhookPayload, identities, { isCommand });
    for (const activity of activities) await inbound.handle(activity, `delivery:${deliveryId}`);
    await deliveries.finish(deliveryId);
  };

  return {
    name: 'github',
    adapters: [adapter],
    routes(http) {
      if (gh.webhookSecret) registerGitHubWebhook(http, { secret: gh.webhookSecret, deliveries, bodyLimitBytes: config.server.limits.webhookBodyKb.github * 1024 });
    },
    async start({ inbound: takesInbound, workers }) {
      if (workers) {
        await ctx.queue.process<GitHubEventJob, void>(
          GITHUB_EVENTS_QUEUE,
          async (job) => {
            try {
              await processDelivery(job.data.deliveryId);
            } catch (err) {
              logger.warn({ delivery: job.data.deliveryId, attempt: job.attemptsMade + 1, err: (err as Error).message }, 'GitHub delivery failed; retrying');
              throw err;
            }
          },
          { concurrency: 4 },
        );
      }
      if (takesInbound) {
        const recovered = await deliveries.recover();
        if (recovered) logger.info({ count: recovered }, 're-enqueued unprocessed GitHub deliveries');
        for (const { persona, poller } of pollers) ctx.leases.hold(`github:notifications:${persona}`, { start: async (fence) => poller.start(fence), stop: () => poller.stop() });
      }
    },
    async stop() {
      await Promise.all(pollers.map(({ poller }) => poller.stop()));
    },
  };
};
