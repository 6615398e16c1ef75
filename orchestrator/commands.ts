import { commandUsage, splitCommand, type ChatCommand, type ChatCommandRegistry, type MatchedCommand } from '../core/chat/commands.js';

export type { ChatCommand, MatchedCommand };

/**
 * The chat-command registry (core/chat/commands.ts): `/help`, and whatever the team and the
 * modules register (`/status`, `/personas`, `/cancel <job>`, `approve <id>` / `deny <id>`).
 * The orchestrator answers a matched command before routing, never a model.
 */
export class ChatCommands implements ChatCommandRegistry {
  private readonly commands: ChatCommand[] = [];
  /** Every name and alias, to its command. */
  private readonly byName = new Map<string, ChatCommand>();

  constructor() {
    this.register({
      name: 'help',
      description: 'what you can ask here',
      run: async () => this.help(),
    });
  }

  register(command: ChatCommand): void {
    const names = [command.name, ...(command.aliases ?? [])].map((n) => n.toLowerCase());
    for (const name of names) {
      if (this.byName.has(name)) throw new Error(`chat command /${name} is registered twice`);
    }
    for (const name of names) this.byName.set(name, command);
    this.commands.push(command);
  }

  match(text: string): MatchedCommand | null {
    const split = splitCommand(text);
    if (!split) return null;
    const command = this.byName.get(split.name);
    if (!command || (!split.slash && !command.bare)) return null;
    if (command.accepts && !command.accepts(split.args, text)) return null;
    return { command, args: split.args };
  }

  list(): ChatCommand[] {
    return [...this.commands];
  }

  help(): string {
    return ['Talk to a persona with @name (e.g. `@apollo fix the login bug`). Commands:', ...this.list().map((c) => `- ${commandUsage(c)}`)].join('\n');
  }
}
