import { splitMessage } from '../format/split.js';

/** Mattermost's limit for one post's message (runes; JavaScript's length counts at least as many). */
export const MATTERMOST_MAX_MESSAGE = 16383;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A persona's markdown as Mattermost posts. Mattermost renders CommonMark-style markdown as
 * personas write it, so the text is kept; only `@<persona id>` becomes the persona's bot
 * username where the two differ, so the mention notifies and links, and text longer than
 * one post is split at paragraph or line boundaries (code fences closed and reopened).
 */
export function formatForMattermost(text: string, usernameByPersona: ReadonlyMap<string, string> = new Map()): string[] {
  let out = text;
  for (const [persona, username] of usernameByPersona) {
    if (persona === username.toLowerCase()) continue;
    out = out.replace(new RegExp(`(^|[^\\w.@/-])@${escapeRegExp(persona)}(?![\\w-]|\\.\\w)`, 'gi'), `$1@${username}`);
  }
  return splitMessage(out, MATTERMOST_MAX_MESSAGE);
}

/** A message that does not fit one post, cut to fit (edits replace one post; they cannot add more). */
export function truncateForMattermost(text: string): string {
  if (text.length <= MATTERMOST_MAX_MESSAGE) return text;
  return text.slice(0, MATTERMOST_MAX_MESSAGE - 2) + ' …';
}
