import type { Envelope } from './types.js';

/**
 * A command people type in any chat (`/status`, `/cancel <job>`, `approve <id>`): answered by
 * Pantheon itself before routing, never by a model. Modules, tools and the orchestrator register
 * theirs in the one `ChatCommandRegistry`; `/help` and Telegram's command menu are built from it.
 */
export interface ChatCommand {
  /** Lowercase `[a-z][a-z0-9_-]*`, typed after `/` (`status` is `/status`). */
  name: string;
  /** Other names for the same command (`reset` for `new`). */
  aliases?: readonly string[];
  /** What follows the name, for /help and menus (`<job>`, `<id> [reason]`). */
  args?: string;
  /** What it does, in a few words (`stop a running infra job`): /help's line and the menu entry. */
  description: string;
  /**
   * Also a command without the slash (`approve k7m2x`), as people answer an approval request
   * by typing the words it shows. Keep to names no one starts a sentence with.
   */
  bare?: boolean;
  /**
   * Whether `text` (as typed, `args` being what follows the name) really is this command;
   * otherwise it is ordinary chat and goes to the team ("approve this" is not `approve <id>`).
   * Without it, any arguments are accepted.
   */
  accepts?(args: string, text: string): boolean;
  /** The answer, posted to the thread as a system message. */
  run(args: string, envelope: Envelope): Promise<string>;
}

export interface MatchedCommand {
  command: ChatCommand;
  /** What followed the name, trimmed. */
  args: string;
}

/** The one registry of chat commands, as a port: channels and tools register and read it without knowing who answers. */
export interface ChatCommandRegistry {
  /** Adds a command; a name or alias already taken is a programming error (throws). */
  register(command: ChatCommand): void;
  /** The command a message invokes, if it is one of ours. Unknown slash words are ordinary text. */
  match(text: string): MatchedCommand | null;
  /** Every command, in the order registered. */
  list(): ChatCommand[];
}

/** `/name args`, also `/name@bot args` as Telegram sends it in groups; the slash is checked by the caller. */
const COMMAND = /^(\/?)([a-z][a-z0-9_-]*)(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/i;

/** The command word a message starts with: its name (lowercased), whether it had the slash, and the rest. */
export function splitCommand(text: string): { name: string; slash: boolean; args: string } | null {
  const m = COMMAND.exec(text.trim());
  if (!m) return null;
  return { name: m[2]!.toLowerCase(), slash: m[1] === '/', args: (m[3] ?? '').trim() };
}

/** The line /help shows for a command: `/cancel <job> — stop a running infra job`. */
export function commandUsage(command: ChatCommand): string {
  return `/${command.name}${command.args ? ` ${command.args}` : ''} — ${command.description}`;
}
