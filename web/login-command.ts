import type { HumanDirectory } from '../core/chat/approvals.js';
import type { ChatCommand } from '../core/chat/commands.js';
import type { OutboxPort } from '../core/chat/outbox.js';
import type { Human } from '../core/chat/approvals.js';
import { loginUrl } from './auth-routes.js';
import type { ConsoleSessions } from './sessions.js';

export interface LoginCommandDeps {
  sessions: Pick<ConsoleSessions, 'createLink'>;
  humans: Pick<HumanDirectory, 'identify'>;
  /** The user id that reaches a human on a platform (`Approvers.addressOn`). */
  addressOn(platform: string, human: Human): string | undefined;
  outbox: Pick<OutboxPort, 'send' | 'directThreadFor'>;
  /** Where people reach the console. */
  baseUrl(): string;
  linkMinutes: number;
}

/**
 * `/login`: the person who typed it gets a console login link in a direct message on the same
 * platform (the local chat: their `dm-<id>` conversation), through the outbox like any post.
 * Never in the thread it was typed in unless that thread is the direct one: a link is a
 * password for as long as it lives.
 */
export function loginCommand(deps: LoginCommandDeps): ChatCommand {
  return {
    name: 'login',
    description: 'get a sign-in link for the web console by direct message',
    run: async (_args, envelope) => {
      const human = deps.humans.identify(envelope.platform, envelope.author.id);
      if (!human) return `${envelope.author.name || envelope.author.id} is not in humans: of pantheon.yaml, so has no console sign-in. An operator can add you there.`;
      const platform = envelope.platform.split(':')[0]!;
      const address = deps.addressOn(platform, human);
      const dm = address === undefined ? undefined : deps.outbox.directThreadFor?.(platform, address);
      if (!dm) {
        return `I cannot send you a direct message on ${platform}, and a sign-in link must not be posted here. Type /login in a direct chat with the team (or the local chat), or ask an operator to run \`pantheon login-link ${human.id}\`.`;
      }
      const link = await deps.sessions.createLink(human.id, `chat:${platform}`);
      await deps.outbox.send({
        idempotencyKey: `login:${envelope.id}`,
        platform,
        threadId: dm,
        role: 'system',
        text: `Your sign-in link for the Pantheon console (works once, for ${deps.linkMinutes} minutes): ${loginUrl(deps.baseUrl(), link.token)}`,
      });
      return dm === envelope.threadId ? `Sign-in link sent above, ${human.id}.` : `Sent you a sign-in link by direct message, ${human.id}.`;
    },
  };
}
