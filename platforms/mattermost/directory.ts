import type { ChannelInfo } from './parse.js';
import type { PersonaBot } from './roster.js';
import { isMattermostId } from './thread-id.js';

/**
 * Channels seen so far (from events and channel lists), by id and by name, so posting to
 * `mattermost:town-square` or choosing who may speak in a DM needs no extra API call.
 */
export class ChannelDirectory {
  private readonly byId = new Map<string, ChannelInfo>();
  private readonly idByName = new Map<string, string>();

  remember(info: ChannelInfo): void {
    if (!info.id) return;
    const known = this.byId.get(info.id);
    // A `posted` event may lack the name (older servers); keep what we knew.
    const merged = { id: info.id, name: info.name || known?.name || '', type: info.type || known?.type || '' };
    this.byId.set(info.id, merged);
    if (merged.name && merged.type !== 'D' && merged.type !== 'G') this.idByName.set(merged.name, info.id);
  }

  get(id: string): ChannelInfo | undefined {
    return this.byId.get(id);
  }

  /**
   * The channel id for a thread's channel part: an id as is, `@username` the DM between the bot
   * and that person, anything else a channel name looked up in the bot's teams.
   */
  async resolve(bot: PersonaBot, ref: string): Promise<string> {
    if (isMattermostId(ref)) return ref;
    if (ref.startsWith('@')) {
      const person = await bot.client.getUserByUsername(ref.slice(1));
      const dm = await bot.client.createDirectChannel([bot.user!.id, person.id]);
      this.remember({ id: dm.id, name: dm.name, type: dm.type });
      return dm.id;
    }
    const name = ref.replace(/^[#~]/, '');
    const cached = this.idByName.get(name);
    if (cached) return cached;
    for (const team of await bot.client.getMyTeams()) {
      try {
        const channel = await bot.client.getChannelByName(team.id, name);
        this.remember({ id: channel.id, name: channel.name, type: channel.type });
        return channel.id;
      } catch {
        // not in this team
      }
    }
    throw new Error(`there is no Mattermost channel named "${name}" in ${bot.persona}'s teams`);
  }

  /** Channel info, asking Mattermost (as `bot`) when it is not known yet; undefined when it cannot be read. */
  async describe(bot: PersonaBot, id: string): Promise<ChannelInfo | undefined> {
    const known = this.byId.get(id);
    if (known?.type) return known;
    try {
      const channel = await bot.client.getChannel(id);
      const info = { id: channel.id, name: channel.name, type: channel.type };
      this.remember(info);
      return info;
    } catch {
      return undefined;
    }
  }
}
