import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Fence } from '../../core/leases/index.js';
import { registerSecret } from '../../core/log.js';
import type { ModuleFactory } from '../../core/modules/types.js';
import { registerActionRoute } from './actions.js';
import { MattermostAdapter } from './adapter.js';
import { ACTIONS_PATH } from './cards.js';
import { ChannelCursors } from './cursors.js';
import { ChannelDirectory } from './directory.js';
import { MattermostInbound } from './inbound.js';
import { BotRoster } from './roster.js';

/**
 * The Mattermost module: on when `channels.mattermost.url` is set and at least one persona has
 * `handles.mattermost.token`. Adds the `mattermost` platform (one bot per persona), the button
 * route, and, where this process takes messages in, one watched socket per bot.
 */
export const mattermostModule: ModuleFactory = (ctx) => {
  const config = ctx.loaded.config.channels.mattermost;
  if (!config?.url) return null;
  const personas = ctx.loaded.personas.filter((p) => p.handles.mattermost?.token).map((p) => ({ id: p.id, token: p.handles.mattermost!.token }));
  if (personas.length === 0) {
    ctx.logger.warn('channels.mattermost.url is set but no persona has handles.mattermost.token: Mattermost stays off');
    return null;
  }
  for (const p of personas) registerSecret(p.token);
  const logger = ctx.logger.child({ platform: 'mattermost' });
  const roster = new BotRoster(config.url, personas, logger);
  const directory = new ChannelDirectory();
  const cursors = new ChannelCursors({ pool: ctx.pool, logger });
  const inbound = new MattermostInbound({ roster, cursors, directory, ingress: ctx.ingress, logger, metrics: ctx.metrics, startedAt: Date.now(), lostAfterMs: config.lostAfterHours * 3_600_000 });
  // Signs button contexts; derived from the first bot's token so cards outlive a restart.
  const secret = createHmac('sha256', personas[0]!.token).update('pantheon mattermost actions').digest('hex');
  let http: FastifyInstance | undefined;
  const actionsUrl = (): string | null => {
    if (config.publicUrl) return config.publicUrl.replace(/\/+$/, '') + ACTIONS_PATH;
    const address = http?.server.address() as AddressInfo | null | undefined;
    if (!address || typeof address !== 'object') return null;
    const host = ['0.0.0.0', '::', ''].includes(address.address) ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}${ACTIONS_PATH}`;
  };
  const adapter = new MattermostAdapter({
    baseUrl: config.url,
    roster,
    directory,
    inbound,
    logger,
    pingIntervalMs: config.pingIntervalSeconds * 1000,
    actions: () => {
      const url = actionsUrl();
      return url ? { url, secret } : null;
    },
    personaName: (id) => ctx.registry.get(id)?.name,
  });
  return {
    name: 'mattermost',
    adapters: [adapter],
    routes(server) {
      http = server;
      registerActionRoute(server, { roster, ingress: ctx.ingress, secret: () => secret, logger, bodyLimitBytes: ctx.loaded.config.server.limits.webhookBodyKb.mattermost * 1024 });
    },
    async start({ inbound: takeMessagesIn }) {
      await adapter.start();
      if (!takeMessagesIn) return;
      // Each bot's socket is opened by one replica at a time (the replicas share the bots out);
      // cursor writes carry the lease's token.
      for (const { id: persona } of personas) {
        let listening = false;
        let fence: Fence | undefined;
        ctx.leases.hold(`mattermost:socket:${persona}`, {
          start: async (f) => {
            fence = f;
            await cursors.load(f);
            adapter.listen(persona);
            listening = true;
            // Where buttons call back; set channels.mattermost.publicUrl when Mattermost cannot reach this address.
            logger.info({ bot: persona, username: roster.bot(persona)?.user?.username, actionsUrl: actionsUrl() }, `mattermost bot ${persona} is listening`);
          },
          stop: async () => {
            listening = false;
            await adapter.unlisten(persona);
            if (fence) await cursors.unload(fence);
          },
          up: () => listening && adapter.listeningUp(persona),
        });
      }
    },
    async stop() {
      await adapter.stop();
      await cursors.stop();
    },
  };
};
