import { ChannelType, Client, Events, GatewayIntentBits, Partials, REST, Routes, type APIUser, type ButtonInteraction, type Interaction, type Message } from 'discord.js';
import type { Logger } from '../../core/log.js';
import type { DiscordClickIn, DiscordMessageIn } from './parse.js';

/** What a persona's bot reports to the adapter. */
export interface BotEvents {
  message(message: DiscordMessageIn): Promise<void>;
  /** A button press; resolves true once it is stored, and only then is it acknowledged to Discord. */
  click(click: DiscordClickIn): Promise<boolean>;
}

/**
 * One persona's own Discord bot. Outbound calls go through `rest`, discord.js's REST client,
 * which waits out 429s per route bucket (one rate-limited channel does not hold up others) and
 * needs no gateway, so every process can post. `connect` opens the gateway with a discord.js
 * client to hear messages and clicks; a failed attempt is thrown away whole, so it can be retried.
 */
export class PersonaBot {
  readonly rest: REST;
  private client: Client | undefined;
  private knownUserId: string | undefined;

  constructor(
    readonly persona: string,
    private readonly token: string,
    private readonly apiUrl: string,
    private readonly logger: Logger,
  ) {
    this.rest = new REST({ api: apiUrl }).setToken(token);
  }

  /** The bot's Discord user id, once known (`whoAmI` or a connected gateway). */
  get userId(): string | undefined {
    return this.knownUserId;
  }

  /** Asks Discord who this bot is (`GET /users/@me`). */
  async whoAmI(): Promise<string> {
    this.knownUserId ??= ((await this.rest.get(Routes.user('@me'))) as APIUser).id;
    return this.knownUserId;
  }

  /** Logs in and resolves once the bot is ready (guilds loaded), or rejects after `timeoutMs`. */
  async connect(events: BotEvents, timeoutMs = 30_000): Promise<void> {
    if (this.client) return;
    const client = new Client({
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent, GatewayIntentBits.DirectMessages],
      // DM channels are not in the cache until a message arrives in them.
      partials: [Partials.Channel],
      rest: { api: this.apiUrl },
    });
    client.on(Events.MessageCreate, (m) => void this.onMessage(m, events));
    client.on(Events.InteractionCreate, (i) => void this.onInteraction(i, events));
    client.on(Events.Error, (err) => this.logger.warn({ persona: this.persona, err: err.message }, 'discord client error'));
    client.on(Events.Warn, (warning) => this.logger.warn({ persona: this.persona, warning }, 'discord client warning'));
    let timer: NodeJS.Timeout | undefined;
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the ${this.persona} bot was not ready within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([client.login(this.token).then(() => ready), late]);
      this.knownUserId = client.user!.id;
      this.client = client;
    } catch (err) {
      client.removeAllListeners();
      await client.destroy().catch(() => {});
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the gateway; `rest` keeps working. */
  async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    client.removeAllListeners();
    await client.destroy();
  }

  private async onMessage(message: Message, events: BotEvents): Promise<void> {
    try {
      if (message.author.bot || message.system) return;
      const channel = message.channel.partial ? await message.channel.fetch() : message.channel;
      await events.message({
        id: message.id,
        guildId: message.guildId ?? undefined,
        channelId: message.channelId,
        channelName: channelName(channel),
        author: { id: message.author.id, username: message.author.username, displayName: message.member?.displayName ?? message.author.globalName ?? undefined, bot: message.author.bot },
        content: message.content,
        createdAt: message.createdAt.toISOString(),
        receivedBy: this.persona,
      });
    } catch (err) {
      this.logger.warn({ persona: this.persona, message: message.id, err: (err as Error).message }, 'could not read a discord message');
    }
  }

  private async onInteraction(interaction: Interaction, events: BotEvents): Promise<void> {
    if (!interaction.isButton()) return;
    const click = interaction as ButtonInteraction;
    const stored = await events.click({
      interactionId: click.id,
      customId: click.customId,
      guildId: click.guildId ?? undefined,
      channelId: click.channelId,
      channelName: click.channel ? channelName(click.channel) : undefined,
      user: { id: click.user.id, username: click.user.username, displayName: click.user.globalName ?? undefined },
      createdAt: click.createdAt.toISOString(),
      receivedBy: this.persona,
    });
    // Acknowledged once stored (Discord allows 3 seconds; the ingress takes milliseconds). Not
    // stored: no answer, so the clicker sees the press failed and can press again.
    // The decision itself is posted by the orchestrator.
    if (stored) await click.deferUpdate().catch((err: Error) => this.logger.warn({ persona: this.persona, err: err.message }, 'could not acknowledge a discord button press'));
  }
}

/** A channel's name as bindings see it: a thread goes by the channel it hangs off. */
function channelName(channel: Message['channel'] | NonNullable<ButtonInteraction['channel']>): string | undefined {
  if (channel.type === ChannelType.DM) return undefined;
  if (channel.isThread()) return channel.parent?.name ?? undefined;
  return 'name' in channel && typeof channel.name === 'string' ? channel.name : undefined;
}
