import { splitMessage } from '../format/split.js';

/** Discord's limit for a message's content. */
export const DISCORD_MESSAGE_LIMIT = 2000;

/**
 * Markdown as Discord renders it. Most of it is native (bold, italics, code, fences, quotes,
 * lists, links, `#`–`###` headings); what is not is rewritten: deeper headings become bold
 * lines, tables become code blocks (Discord draws no tables), images become links.
 */
export function toDiscordMarkdown(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let inFence = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*```/.test(line)) inFence = !inFence;
    if (inFence || /^\s*```/.test(line)) {
      out.push(line);
      continue;
    }
    if (isTableRow(line) && isTableDivider(lines[i + 1] ?? '')) {
      const table: string[] = [];
      while (i < lines.length && isTableRow(lines[i]!)) table.push(lines[i++]!);
      i--;
      out.push('```', ...table.filter((row) => !isTableDivider(row)), '```');
      continue;
    }
    out.push(line.replace(/^#{4,6}\s+(.*)$/, '**$1**').replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (_m, alt: string, url: string) => `[${alt || 'image'}](${url})`));
  }
  return out.join('\n');
}

/** The message parts to post, each within Discord's limit. */
export function discordParts(text: string): string[] {
  return splitMessage(toDiscordMarkdown(text), DISCORD_MESSAGE_LIMIT);
}

/** One message's worth of text for an edit in place: a growing progress log keeps its latest lines. */
export function discordEditText(text: string): string {
  const formatted = toDiscordMarkdown(text);
  return formatted.length <= DISCORD_MESSAGE_LIMIT ? formatted : `…${formatted.slice(-(DISCORD_MESSAGE_LIMIT - 1))}`;
}

const isTableRow = (line: string) => /^\s*\|.*\|\s*$/.test(line);
const isTableDivider = (line: string) => /^\s*\|(\s*:?-{3,}:?\s*\|)+\s*$/.test(line);
