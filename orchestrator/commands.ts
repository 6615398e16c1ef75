import type { Envelope } from '../core/chat/types.js';

/**
 * Slash commands people type in any chat (`/status`, `/personas`, `/help`, `/cancel <job>`):
 * answered by the orchestrator itself, before routing, never by a model. Approval commands
 * (`approve <id>`, `/approve <id>`) have their own path through the approval desk.
 */
export interface ChatCommand {
  name: string;
  /** One line for /help, e.g. `/cancel <job> — stop a running job`. */
  usage: string;
  /** The answer, posted to the thread as a system message. */
  run(args: string, envelope: Envelope): Promise<string>;
}

/** `/name args`, also `/name@bot args` as Telegram sends it in groups. */
const COMMAND = /^\/([a-z][a-z0-9_-]*)(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/i;

export class ChatCommands {
  private readonly commands = new Map<string, ChatCommand>();

  constructor() {
    this.register({
      name: 'help',
      usage: '/help — what you can ask here',
      run: async () => this.help(),
    });
  }

  register(command: ChatCommand): void {
    if (this.commands.has(command.name)) throw new Error(`chat command /${command.name} is registered twice`);
    this.commands.set(command.name, command);
  }

  /** The command a message invokes, if it is one of ours. Unknown slash words are ordinary text. */
  match(text: string): { command: ChatCommand; args: string } | null {
    const m = COMMAND.exec(text.trim());
    if (!m) return null;
    const command = this.commands.get(m[1]!.toLowerCase());
    return command ? { command, args: (m[2] ?? '').trim() } : null;
  }

  list(): ChatCommand[] {
    return [...this.commands.values()];
  }

  help(): string {
    return [
      'Talk to a persona with @name (e.g. `@apollo fix the login bug`). Commands:',
      ...this.list().map((c) => `- ${c.usage}`),
      '- approve <id> / deny <id> — answer an approval request (approvers only)',
    ].join('\n');
  }
}
