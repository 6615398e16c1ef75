import type { ModuleFactory } from '../../core/modules/types.js';
import { registerSecret } from '../../core/log.js';
import { DiscordAdapter } from './adapter.js';
import { PersonaBot } from './bot.js';

const DEFAULT_API_URL = 'https://discord.com/api';

/**
 * Discord, when `channels.discord` is configured and at least one persona has a bot
 * (`handles.discord.token`). Each such persona gets its own bot; the gateways connect only in
 * the process that takes messages in, while every process can post.
 */
export const discordModule: ModuleFactory = (ctx) => {
  const config = ctx.loaded.config.channels.discord;
  if (!config) return null;
  const personas = ctx.registry.list().filter((p) => p.handles.discord?.token);
  if (personas.length === 0) {
    ctx.logger.warn('channels.discord is configured but no persona has handles.discord.token: Discord stays off');
    return null;
  }
  const logger = ctx.logger.child({ platform: 'discord' });
  const apiUrl = (config.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, '');
  const bots = new Map<string, PersonaBot>();
  for (const p of personas) {
    const token = p.handles.discord!.token;
    registerSecret(token);
    bots.set(p.id, new PersonaBot(p.id, token, apiUrl, logger));
  }
  const wanted = config.systemPersona ?? ctx.loaded.config.orchestrator.defaultPersona;
  if (config.systemPersona && !bots.has(config.systemPersona)) {
    logger.warn({ systemPersona: config.systemPersona }, "channels.discord.systemPersona has no Discord bot; another persona's bot posts system messages");
  }
  const adapter = new DiscordAdapter({
    bots,
    systemPersona: bots.has(wanted) ? wanted : personas[0]!.id,
    displayName: (id) => ctx.registry.get(id)?.name ?? id,
    ingress: ctx.ingress,
    logger,
    metrics: ctx.metrics,
  });
  return {
    name: 'discord',
    adapters: [adapter],
    async start({ inbound }) {
      // One gateway connection per bot across replicas, each held by one replica at a time (the replicas share them out).
      if (!inbound) return;
      for (const persona of bots.keys()) ctx.leases.hold(`discord:gateway:${persona}`, { start: () => adapter.listen(persona), stop: () => adapter.unlisten(persona) });
    },
    stop: () => adapter.stop(),
  };
};
