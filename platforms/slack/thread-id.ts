/**
 * Slack thread ids: `slack:{team}:{channel}:{threadTs}`, or `slack:{team}:{channel}` for a
 * direct message's main conversation (a DM is one conversation unless someone opens a thread).
 * Parts are percent-encoded, so a value can never be mistaken for a separator.
 */
export interface SlackThread {
  team: string;
  channel: string;
  /** ts of the thread's root message; absent: the channel itself (DMs). */
  thread?: string;
}

const enc = (s: string) => encodeURIComponent(s);

export function encodeSlackThreadId(parts: { team?: string; channel?: string; thread?: string }): string {
  if (!parts.team || !parts.channel) throw new Error(`a Slack thread id needs team and channel, got ${JSON.stringify(parts)}`);
  return `slack:${enc(parts.team)}:${enc(parts.channel)}${parts.thread ? `:${enc(parts.thread)}` : ''}`;
}

export function decodeSlackThreadId(threadId: string): SlackThread {
  const m = /^slack:([^:]+):([^:]+)(?::([^:]+))?$/.exec(threadId);
  if (!m) throw new Error(`not a Slack thread id: ${JSON.stringify(threadId)}`);
  const thread: SlackThread = { team: decodeURIComponent(m[1]!), channel: decodeURIComponent(m[2]!) };
  if (m[3]) thread.thread = decodeURIComponent(m[3]);
  return thread;
}
