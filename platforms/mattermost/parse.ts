import type { Post } from '@mattermost/types/posts';
import type { Envelope } from '../../core/chat/types.js';
import { encodeMattermostThreadId } from './thread-id.js';

/** What the parser needs to know of a channel (from the `posted` event or the channel list). */
export interface ChannelInfo {
  id: string;
  /** `town-square`; for a DM, the two user ids joined by `__`. */
  name: string;
  /** O public, P private, D direct, G group. */
  type: string;
}

/** The author of a post, as the users API shows them. */
export interface PostAuthor {
  id: string;
  username: string;
  isBot: boolean;
}

/** The team's bot accounts: which persona each Mattermost user id and username belongs to. */
export interface TeamBots {
  personaByUserId: ReadonlyMap<string, string>;
  personaByUsername: ReadonlyMap<string, string>;
}

/** The subset of a Mattermost post the parser reads. */
export type PostLike = Pick<Post, 'id' | 'channel_id' | 'root_id' | 'user_id' | 'message' | 'type' | 'create_at'> & {
  props?: Record<string, unknown> | null;
  delete_at?: number;
};

/**
 * Cheap checks before anything is looked up: system messages, deleted posts, and posts by the
 * team's own bots, webhooks or any bot never reach the ingress (personas must not trigger
 * each other through the chat; handoffs go through the graph).
 */
export function mightBeHuman(post: PostLike, bots: TeamBots): boolean {
  if (bots.personaByUserId.has(post.user_id)) return false;
  if (post.type) return false; // system_join_channel, system_header_change, ...
  if (post.delete_at) return false;
  const props = post.props ?? {};
  if (props.from_bot === 'true' || props.from_bot === true || props.from_webhook === 'true') return false;
  return post.message.trim().length > 0;
}

/**
 * A human's post as an envelope: one id per post (`mattermost:<postId>`), so every bot socket
 * that sees it (and every catch-up) maps it to the same envelope and the ingress takes it once.
 * The thread is the root post's (`mattermost:<channelId>:<rootId or postId>`). Mentions of a
 * persona's bot username become `@<persona id>` so routing finds them; a DM to a persona's bot
 * is `directTo` that persona. Answers null for anything that is not a human's message.
 */
export function postToEnvelope(post: PostLike, channel: ChannelInfo, author: PostAuthor, bots: TeamBots): Envelope | null {
  if (!mightBeHuman(post, bots) || author.isBot || bots.personaByUserId.has(author.id)) return null;
  const envelope: Envelope = {
    id: `mattermost:${post.id}`,
    platform: 'mattermost',
    threadId: encodeMattermostThreadId({ channelId: post.channel_id, rootId: post.root_id || post.id }),
    author: { id: author.username, name: author.username },
    text: mentionsAsPersonas(post.message, bots.personaByUsername),
    receivedAt: new Date(post.create_at || Date.now()).toISOString(),
    bindingKey: `mattermost:${channel.name}`,
  };
  const direct = channel.type === 'D' ? directPersona(channel.name, bots) : undefined;
  if (direct) envelope.directTo = direct;
  return envelope;
}

/** The persona whose bot is one side of a DM channel (`<userId>__<userId>`). */
export function directPersona(channelName: string, bots: TeamBots): string | undefined {
  return channelName
    .split('__')
    .map((id) => bots.personaByUserId.get(id))
    .find((p): p is string => !!p);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `@athena-bot` (a bot username) becomes `@athena` (its persona id); other text is untouched. */
export function mentionsAsPersonas(text: string, personaByUsername: ReadonlyMap<string, string>): string {
  let out = text;
  for (const [username, persona] of personaByUsername) {
    if (username.toLowerCase() === persona) continue;
    const pattern = new RegExp(`(^|[^\\w.@/-])@${escapeRegExp(username)}(?![\\w-]|\\.\\w)`, 'gi');
    out = out.replace(pattern, `$1@${persona}`);
  }
  return out;
}
