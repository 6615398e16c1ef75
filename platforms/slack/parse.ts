import type { Envelope } from '../../core/chat/types.js';
import { commandForAction } from './cards.js';
import { encodeSlackThreadId } from './thread-id.js';

/** What parsing needs to know besides the payload. */
export interface ParseContext {
  /** The persona whose Slack app received the payload (a DM to it is addressed to it). */
  receiver: string;
  /** Bot user id (`U…`) of each persona's app → persona id. */
  personaByBotUser: ReadonlyMap<string, string>;
  /** The author's display name, when it was looked up; the user id otherwise. */
  authorName?: string;
}

type Json = Record<string, any>;

/** Message subtypes that are someone saying something; edits, joins and deletions are not. */
const SPOKEN_SUBTYPES = new Set([undefined, 'thread_broadcast', 'file_share', 'me_message', 'bot_message']);

/**
 * One Slack payload as an `Envelope`, or null when it is nothing to answer. Events API bodies
 * (`event_callback` with `message` / `app_mention`) and `block_actions` (approval buttons) are
 * understood. The same message reaches every persona app in the channel, as `message` and as
 * `app_mention`: each maps to the same envelope id (`slack:{channel}:{ts}`), so it is handled once.
 */
export function parseSlackPayload(body: Json, ctx: ParseContext): Envelope | null {
  if (body?.type === 'event_callback') return parseEvent(body, ctx);
  if (body?.type === 'block_actions') return parseBlockActions(body, ctx);
  return null;
}

/** The Slack user id behind a payload, to look up a display name before parsing. */
export function payloadAuthor(body: Json): string | undefined {
  if (body?.type === 'block_actions') return body.user?.id;
  if (body?.type === 'event_callback') return body.event?.bot_id ? undefined : body.event?.user;
  return undefined;
}

function parseEvent(body: Json, ctx: ParseContext): Envelope | null {
  const event: Json = body.event ?? {};
  if (event.type !== 'message' && event.type !== 'app_mention') return null;
  if (!SPOKEN_SUBTYPES.has(event.subtype)) return null;
  const channel: string | undefined = event.channel;
  const ts: string | undefined = event.ts;
  if (!channel || !ts) return null;
  const team: string = body.team_id ?? event.team ?? 'slack';
  const direct = isDirect(channel, event.channel_type);
  const user: string = event.user ?? event.bot_id ?? 'unknown';
  const isBot = !!event.bot_id || event.subtype === 'bot_message' || ctx.personaByBotUser.has(user);
  // A DM is one conversation unless someone replies in a thread; in channels every root message starts one.
  const thread: string | undefined = event.thread_ts ?? (direct ? undefined : ts);
  const envelope: Envelope = {
    id: `slack:${channel}:${ts}`,
    platform: 'slack',
    threadId: encodeSlackThreadId({ team, channel, thread }),
    author: { id: user, name: ctx.authorName ?? event.username ?? user, ...(isBot ? { isBot: true } : {}) },
    text: fromSlackText(String(event.text ?? ''), ctx.personaByBotUser),
    receivedAt: tsToIso(ts),
    bindingKey: `slack:${channel}`,
  };
  if (direct && !isBot) envelope.directTo = ctx.receiver;
  return envelope;
}

function parseBlockActions(body: Json, ctx: ParseContext): Envelope | null {
  const action: Json | undefined = body.actions?.[0];
  const text = action ? commandForAction(action) : null;
  const user: string | undefined = body.user?.id;
  const channel: string | undefined = body.container?.channel_id ?? body.channel?.id;
  const messageTs: string | undefined = body.container?.message_ts ?? body.message?.ts;
  if (!text || !user || !channel || !messageTs) return null;
  const direct = isDirect(channel);
  // The card sits in the conversation the approval was asked in: its thread, or the DM itself.
  const thread: string | undefined = body.container?.thread_ts ?? body.message?.thread_ts ?? (direct ? undefined : messageTs);
  return {
    // One click is one answer; clicking again is a new answer (the desk says it was already decided).
    id: `slack:action:${channel}:${messageTs}:${user}:${action!.action_ts ?? Date.now()}`,
    platform: 'slack',
    threadId: encodeSlackThreadId({ team: body.team?.id ?? body.user?.team_id ?? 'slack', channel, thread }),
    author: { id: user, name: ctx.authorName ?? body.user?.username ?? body.user?.name ?? user },
    text,
    receivedAt: new Date().toISOString(),
    bindingKey: `slack:${channel}`,
  };
}

/**
 * Slack's wire text to what the team reads: a mention of a persona's app (`<@U…>`) becomes
 * `@persona`, so routing sees who was addressed; `<#C…|name>` → `#name`, `<!here>` → `@here`,
 * `<url|label>` → `[label](url)`, and the three escaped characters are restored. Mentions of
 * people stay as Slack wrote them, so they are never taken for an unknown persona.
 */
export function fromSlackText(text: string, personaByBotUser: ReadonlyMap<string, string>): string {
  return text
    .replace(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g, (whole, id: string) => {
      const persona = personaByBotUser.get(id);
      return persona ? `@${persona}` : whole;
    })
    .replace(/<#[CG][A-Z0-9]+\|([^>]+)>/g, '#$1')
    .replace(/<!(here|channel|everyone)(?:\|[^>]*)?>/g, '@$1')
    .replace(/<(https?:\/\/[^|>]+)\|([^>]+)>/g, '[$2]($1)')
    .replace(/<(https?:\/\/[^|>]+)>/g, '$1')
    .replace(/<mailto:([^|>]+)\|[^>]+>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function isDirect(channel: string, channelType?: string): boolean {
  return channelType === 'im' || (channelType === undefined && channel.startsWith('D'));
}

function tsToIso(ts: string): string {
  const ms = Math.round(Number(ts) * 1000);
  return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : new Date().toISOString();
}
