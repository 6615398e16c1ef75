/**
 * Mattermost thread ids: `mattermost:{channelId}:{rootPostId}` for a thread (a post and its
 * replies share the root's id), or `mattermost:{channel}` for a channel's top level, where
 * `channel` may also be a channel name (`mattermost:town-square`, what `post_message` uses)
 * or `@username` for a direct message to that person (`mattermost:@jeff`).
 * Parts are URI-encoded, so the id stays opaque and round-trips whatever a part contains.
 */
export interface MattermostThread {
  /** A channel id, or a channel name for top-level posts. */
  channelId: string;
  /** The thread's root post id; absent for the channel's top level. */
  rootId?: string;
}

const PREFIX = 'mattermost:';

export function encodeMattermostThreadId(thread: MattermostThread): string {
  if (!thread.channelId) throw new Error('a Mattermost thread id needs a channel');
  const channel = encodeURIComponent(thread.channelId);
  return thread.rootId ? `${PREFIX}${channel}:${encodeURIComponent(thread.rootId)}` : `${PREFIX}${channel}`;
}

export function decodeMattermostThreadId(threadId: string): MattermostThread {
  if (!threadId.startsWith(PREFIX)) throw new Error(`not a Mattermost thread id: ${JSON.stringify(threadId)}`);
  const [channel, root, ...rest] = threadId.slice(PREFIX.length).split(':');
  if (!channel || rest.length > 0 || root === '') throw new Error(`not a Mattermost thread id: ${JSON.stringify(threadId)}`);
  const decoded: MattermostThread = { channelId: decodeURIComponent(channel) };
  if (root !== undefined) decoded.rootId = decodeURIComponent(root);
  return decoded;
}

/** Mattermost object ids are 26 characters of [a-z0-9]; anything else in a thread id is a channel name. */
export function isMattermostId(value: string): boolean {
  return /^[a-z0-9]{26}$/.test(value);
}
