import type { BotCommand } from 'grammy/types';
import type { ChatCommand } from '../../core/chat/commands.js';

/**
 * Telegram's command menu (setMyCommands), built from the chat-command registry: every command
 * the orchestrator answers, with its description, plus `/ask`, which this adapter itself
 * rewrites (`/ask apollo ...` → `@apollo ...`, see parse.ts) and so is not a registry command.
 */
const OWN: BotCommand[] = [{ command: 'ask', description: '<persona> <text>: ask one persona' }];

/** What Telegram accepts as a command name and the longest description it takes. */
const NAME = /^[a-z0-9_]{1,32}$/;
const MAX_DESCRIPTION = 256;

export function telegramMenu(commands: readonly ChatCommand[]): BotCommand[] {
  const menu = commands
    // A name Telegram refuses (a '-' in it) would make it refuse the whole menu: such a command is typed, not picked.
    .filter((c) => NAME.test(c.name))
    .map((c) => ({ command: c.name, description: clip(c.args ? `${c.args}: ${c.description}` : c.description) }));
  return [...menu, ...OWN.filter((own) => !menu.some((m) => m.command === own.command))];
}

function clip(text: string): string {
  return text.length <= MAX_DESCRIPTION ? text : `${text.slice(0, MAX_DESCRIPTION - 1)}…`;
}
