import type { Envelope } from '../../core/chat/types.js';
import { parseCustomId } from './cards.js';
import { encodeDiscordThreadId } from './thread-id.js';

/**
 * What the adapter needs from a Discord message, taken off the discord.js object by the bot
 * (bot.ts) so that turning it into an envelope is a pure function.
 */
export interface DiscordMessageIn {
  id: string;
  /** Absent in a DM. */
  guildId?: string;
  channelId: string;
  /** The channel's name; for a thread, the name of the channel it hangs off (what bindings name). */
  channelName?: string;
  author: { id: string; username: string; displayName?: string; bot: boolean };
  content: string;
  createdAt: string;
  /** The persona whose bot received it (a DM is to that persona). */
  receivedBy: string;
}

/** A button press on one of our messages. */
export interface DiscordClickIn {
  interactionId: string;
  customId: string;
  guildId?: string;
  channelId: string;
  channelName?: string;
  user: { id: string; username: string; displayName?: string };
  createdAt: string;
  receivedBy: string;
}

/** Which persona a Discord user id is, for the team's own bots. */
export type BotDirectory = (userId: string) => string | undefined;

/**
 * A Discord message as an envelope, or null when it is not for us (a bot's, an empty one).
 * `<@botUserId>` mentions of a persona's bot become `@persona`, so routing sees the usual
 * @mention; other raw mentions are left as they are.
 */
export function parseDiscordMessage(message: DiscordMessageIn, personaOf: BotDirectory): Envelope | null {
  if (message.author.bot) return null;
  const text = message.content
    .replace(/<@!?(\d+)>/g, (raw, id: string) => {
      const persona = personaOf(id);
      return persona ? `@${persona}` : raw;
    })
    .trim();
  if (!text) return null;
  return {
    id: `discord:${message.id}`,
    platform: 'discord',
    ...where(message.guildId, message.channelId, message.channelName, message.receivedBy),
    author: { id: message.author.id, name: message.author.displayName ?? message.author.username, isBot: false },
    text,
    receivedAt: message.createdAt,
  };
}

/**
 * A click on an approval card's button as the answer typed out (`approve <id>` / `deny <id>`),
 * authored by whoever clicked: the orchestrator checks them against `humans:` like any answer.
 */
export function parseDiscordClick(click: DiscordClickIn): Envelope | null {
  const action = parseCustomId(click.customId);
  if (!action) return null;
  return {
    id: `discord:interaction:${click.interactionId}`,
    platform: 'discord',
    ...where(click.guildId, click.channelId, click.channelName, click.receivedBy),
    author: { id: click.user.id, name: click.user.displayName ?? click.user.username, isBot: false },
    text: `${action.action} ${action.approvalId}`,
    receivedAt: click.createdAt,
  };
}

function where(guildId: string | undefined, channelId: string, channelName: string | undefined, receivedBy: string): Pick<Envelope, 'threadId' | 'directTo' | 'bindingKey'> {
  if (!guildId) return { threadId: encodeDiscordThreadId({ dm: receivedBy, channelId }), directTo: receivedBy };
  return { threadId: encodeDiscordThreadId({ guildId, channelId }), ...(channelName ? { bindingKey: `discord:${channelName}` } : {}) };
}
