import type { Logger } from '../../core/log.js';
import { createMattermostClient, statusOf, type MattermostClient } from './client.js';
import type { TeamBots } from './parse.js';
import type { BotSocket } from './socket.js';

/** One persona's bot account on Mattermost: its REST client, who it is (from `getMe`), its socket. */
export interface PersonaBot {
  persona: string;
  token: string;
  client: MattermostClient;
  user?: { id: string; username: string };
  socket?: BotSocket;
}

/**
 * The team on Mattermost: one bot account per persona with a `handles.mattermost.token`, in
 * persona order. The first bot that signs in is also the system voice (approval requests,
 * notices). A bot whose token is refused is reported and left out; the others carry on.
 */
export class BotRoster {
  readonly bots: PersonaBot[];
  private identifying: Promise<void> | undefined;
  private lastAttempt = 0;
  private maps: TeamBots & { usernameByPersona: Map<string, string> } = { personaByUserId: new Map(), personaByUsername: new Map(), usernameByPersona: new Map() };

  constructor(
    baseUrl: string,
    personas: ReadonlyArray<{ id: string; token: string }>,
    private readonly logger: Logger,
  ) {
    this.bots = personas.map((p) => ({ persona: p.id, token: p.token, client: createMattermostClient(baseUrl, p.token) }));
  }

  /**
   * Signs every bot in (`getMe`) that is not yet; concurrent callers share one attempt, and a
   * bot that failed is tried again at most every `retryAfterMs` (a bad token is not hammered).
   */
  identify(retryAfterMs = 30_000): Promise<void> {
    if (!this.identifying && this.lastAttempt && Date.now() - this.lastAttempt < retryAfterMs) return Promise.resolve();
    this.identifying ??= this.signIn().finally(() => {
      this.identifying = undefined;
    });
    return this.identifying;
  }

  private async signIn(): Promise<void> {
    this.lastAttempt = Date.now();
    await Promise.all(
      this.bots
        .filter((b) => !b.user)
        .map(async (bot) => {
          try {
            const me = await bot.client.getMe();
            bot.user = { id: me.id, username: me.username };
            if (!me.is_bot) this.logger.warn({ persona: bot.persona, username: me.username }, 'the Mattermost token of this persona belongs to a regular user, not a bot account');
          } catch (err) {
            const status = statusOf(err);
            this.logger.error(
              { persona: bot.persona, status, err: (err as Error).message },
              status === 401
                ? "Mattermost refused this persona's token (handles.mattermost.token): create a bot account and use its access token"
                : "could not reach Mattermost to sign this persona's bot in",
            );
          }
        }),
    );
    const signedIn = this.bots.filter((b) => b.user);
    this.maps = {
      personaByUserId: new Map(signedIn.map((b) => [b.user!.id, b.persona])),
      personaByUsername: new Map(signedIn.map((b) => [b.user!.username.toLowerCase(), b.persona])),
      usernameByPersona: new Map(signedIn.map((b) => [b.persona, b.user!.username])),
    };
  }

  /** Who is who, for parsing posts (only bots signed in so far). */
  get team(): TeamBots {
    return this.maps;
  }

  /** persona id → its bot's username, for mentions in outgoing text. */
  get usernames(): ReadonlyMap<string, string> {
    return this.maps.usernameByPersona;
  }

  /** The signed-in bot of a persona. */
  bot(persona: string | undefined): PersonaBot | undefined {
    return persona ? this.bots.find((b) => b.persona === persona && b.user) : undefined;
  }

  byUserId(userId: string): PersonaBot | undefined {
    return this.bots.find((b) => b.user?.id === userId);
  }

  /** The system voice: the first signed-in bot. */
  system(): PersonaBot | undefined {
    return this.bots.find((b) => b.user);
  }

  signedIn(): PersonaBot[] {
    return this.bots.filter((b) => b.user);
  }
}
