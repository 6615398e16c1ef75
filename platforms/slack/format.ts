import { splitMessage } from '../format/split.js';

/**
 * Slack shows at most about 4,000 characters of a message's `text` before it truncates
 * (and 3,000 per section block); longer answers go out as several messages in the thread.
 */
const SLACK_TEXT_LIMIT = 3900;

/**
 * Markdown, as personas write it, to Slack's mrkdwn: `**bold**` → `*bold*`, `*it*`/`_it_` → `_it_`,
 * `~~x~~` → `~x~`, `[label](url)` → `<url|label>`, `# Heading` → `*Heading*`, `- item` → `• item`.
 * `&`, `<` and `>` are escaped everywhere (Slack reads `<…>` as links and mentions); code spans
 * and fenced blocks keep their text otherwise untouched.
 */
export function toMrkdwn(markdown: string): string {
  const out: string[] = [];
  // Split into fenced code blocks and the prose between them.
  const parts = markdown.split(/(^```[^\n]*\n[\s\S]*?^```[ \t]*$)/m);
  for (const part of parts) {
    if (part.startsWith('```')) {
      // Slack ignores a fence's language tag; dropping it keeps it from showing as code.
      out.push(escapeText(part.replace(/^```[^\n]*\n/, '```\n')));
      continue;
    }
    out.push(part.split('\n').map(convertLine).join('\n'));
  }
  return out.join('');
}

/** The message parts to post for `markdown`: converted, then split where the limit needs it. */
export function formatForSlack(markdown: string, limit = SLACK_TEXT_LIMIT): string[] {
  return splitMessage(toMrkdwn(markdown), limit);
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function convertLine(line: string): string {
  const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
  if (heading) return `*${convertInline(heading[1]!.replace(/\*\*/g, ''))}*`;
  const bullet = /^(\s*)[-*+]\s+(.*)$/.exec(line);
  if (bullet) return `${bullet[1]}• ${convertInline(bullet[2]!)}`;
  return convertInline(line);
}

/** Inline markup outside code spans. */
function convertInline(text: string): string {
  return text
    .split(/(`[^`\n]+`)/)
    .map((piece) => (piece.startsWith('`') && piece.endsWith('`') && piece.length > 1 ? escapeText(piece) : inlineMarks(piece)))
    .join('');
}

const BOLD = '\u0001';

function inlineMarks(text: string): string {
  const links: string[] = [];
  // Links first, before escaping eats their brackets; their URL must not be touched by the rest.
  let s = text.replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g, (_m, label: string, url: string) => {
    links.push(`<${url.replace(/\|/g, '%7C')}|${escapeText(label)}>`);
    return `\u0002${links.length - 1}\u0002`;
  });
  s = escapeText(s);
  s = s
    .replace(/\*\*(?=\S)([^*\n]+?)\*\*/g, `${BOLD}$1${BOLD}`)
    .replace(/__(?=\S)([^_\n]+?)__/g, `${BOLD}$1${BOLD}`)
    .replace(/(?<![\w*])\*(?=\S)([^*\n]+?)\*(?![\w*])/g, '_$1_')
    .replace(/~~(?=\S)([^~\n]+?)~~/g, '~$1~')
    .replace(new RegExp(BOLD, 'g'), '*');
  return s.replace(/\u0002(\d+)\u0002/g, (_m, i: string) => links[Number(i)]!);
}
