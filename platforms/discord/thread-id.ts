/**
 * Discord thread ids. In Discord a thread is itself a channel, so a conversation is one channel id:
 *
 * - guild channels and threads: `discord:<guildId>:<channelId>`
 * - direct messages: `discord:@<persona>:<channelId>`. A DM channel belongs to one bot (the
 *   human's DM with that persona), and only that bot may post in it, so the id names it: system
 *   messages and replies after a restart go out through the right bot with no stored state.
 *
 * Parts: `{ guildId, channelId }` or `{ dm, channelId }`. `%` and `:` inside a value are escaped.
 */
export type DiscordThreadParts = { guildId: string; channelId: string; dm?: undefined } | { dm: string; channelId: string; guildId?: undefined };

const escapePart = (value: string) => value.replace(/%/g, '%25').replace(/:/g, '%3A');
const unescapePart = (value: string) => value.replace(/%3A/gi, ':').replace(/%25/g, '%');

export function encodeDiscordThreadId(parts: Record<string, string | undefined>): string {
  const channelId = parts.channelId;
  if (!channelId) throw new Error('a Discord thread id needs a channelId');
  if (parts.dm) return `discord:@${escapePart(parts.dm)}:${escapePart(channelId)}`;
  if (!parts.guildId) throw new Error('a Discord thread id needs a guildId (or dm: the persona whose DM it is)');
  if (parts.guildId.startsWith('@')) throw new Error(`not a guild id: ${JSON.stringify(parts.guildId)}`);
  return `discord:${escapePart(parts.guildId)}:${escapePart(channelId)}`;
}

export function decodeDiscordThreadId(threadId: string): DiscordThreadParts {
  const m = /^discord:([^:]+):([^:]+)$/.exec(threadId);
  if (!m) throw new Error(`not a Discord thread id: ${JSON.stringify(threadId)}`);
  const [scope, channel] = [m[1]!, unescapePart(m[2]!)];
  return scope.startsWith('@') ? { dm: unescapePart(scope.slice(1)), channelId: channel } : { guildId: unescapePart(scope), channelId: channel };
}
