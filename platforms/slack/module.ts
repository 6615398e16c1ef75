import type { ModuleFactory } from '../../core/modules/types.js';
import { ConfigError } from '../../core/config/index.js';
import { registerSecret } from '../../core/log.js';
import { SlackAdapter } from './adapter.js';
import { SlackApi } from './api.js';
import { SlackInbound, type SlackPersonaApp } from './inbound.js';
import { registerSlackRoutes } from './routes.js';

/**
 * Slack, when `channels.slack` is configured and at least one persona has a Slack app
 * (`handles.slack.botToken`). Every process posts (workers too); the process serving HTTP also
 * takes messages in: one Socket Mode connection per persona app, or the webhook routes.
 */
export const slackModule: ModuleFactory = (ctx) => {
  const { config, personas, configFile } = ctx.loaded;
  const slack = config.channels.slack;
  if (!slack) return null;
  const apps: SlackPersonaApp[] = personas.filter((p) => p.handles.slack?.botToken).map((p) => ({ persona: p.id, botToken: p.handles.slack!.botToken, appToken: p.handles.slack!.appToken }));
  if (!apps.length) {
    ctx.logger.warn('channels.slack is configured but no persona has handles.slack.botToken: Slack stays off');
    return null;
  }
  const signingSecrets = [slack.signingSecret, ...Object.values(slack.signingSecrets ?? {})].filter((s): s is string => !!s);
  signingSecrets.forEach(registerSecret);
  if (slack.mode === 'http' && !signingSecrets.length) {
    throw new ConfigError(configFile ?? 'pantheon.yaml', 'channels.slack.signingSecret', 'is required in HTTP mode (each Slack app\'s "Signing Secret" under Basic Information), or use mode: socket');
  }

  const logger = ctx.logger.child({ component: 'slack' });
  const apis = new Map(apps.map((a) => [a.persona, new SlackApi({ persona: a.persona, botToken: a.botToken, apiUrl: slack.apiUrl, logger })]));
  const defaultPersona = config.orchestrator.defaultPersona;
  const adapter = new SlackAdapter({
    apis,
    voice: apis.has(defaultPersona) ? defaultPersona : apps[0]!.persona,
    displayName: (id) => ctx.registry.get(id)?.name ?? id,
    logger,
  });
  const inbound = new SlackInbound({ mode: slack.mode, apps, apis, apiUrl: slack.apiUrl, ingress: ctx.ingress, adapter, logger, metrics: ctx.metrics });

  return {
    name: 'slack',
    adapters: [adapter],
    routes(http) {
      if (slack.mode === 'http') registerSlackRoutes(http, { signingSecrets, inbound, logger, bodyLimitBytes: config.server.limits.webhookBodyKb.slack * 1024 });
    },
    async start({ inbound: takesMessages }) {
      if (!takesMessages) return;
      // Socket Mode: each persona's app connection is held by one replica at a time (the replicas
      // share them out). HTTP mode: every replica takes the routes.
      if (slack.mode === 'http') return inbound.start();
      for (const { persona } of apps) ctx.leases.hold(`slack:socket:${persona}`, { start: () => inbound.listen(persona), stop: () => inbound.unlisten(persona) });
    },
    async stop() {
      await inbound.stop();
    },
  };
};
