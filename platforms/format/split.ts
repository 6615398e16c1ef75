/**
 * Splits a message into parts of at most `limit` characters, at the best boundary available:
 * a paragraph break, then a line break, then a space, and only then mid-word. A fenced code
 * block cut in two is closed at the end of one part and reopened at the start of the next, so
 * each part renders on its own. Every platform has its own limit (Slack 40,000 for text but
 * 3,000 per section block, Discord 2,000, Telegram 4,096, Mattermost 16,383).
 */
export function splitMessage(text: string, limit: number): string[] {
  if (limit < 20) throw new Error(`message limit ${limit} is too small to split into`);
  if (text.length <= limit) return [text];
  const parts: string[] = [];
  let rest = text;
  let reopen = '';
  while (rest.length > 0) {
    const budget = limit - reopen.length;
    if (rest.length <= budget) {
      parts.push(reopen + rest);
      break;
    }
    // Leave room to close a fence this part leaves open.
    let cut = bestCut(rest, budget - 4);
    let part = reopen + rest.slice(0, cut);
    const fence = openFence(part);
    if (fence !== null) part += '\n```';
    parts.push(part);
    rest = rest.slice(cut).replace(/^\n+/, '');
    reopen = fence !== null ? '```' + fence + '\n' : '';
  }
  return parts;
}

function bestCut(text: string, max: number): number {
  const window = text.slice(0, max);
  for (const sep of ['\n\n', '\n', ' ']) {
    const at = window.lastIndexOf(sep);
    if (at > max / 2) return at + (sep === ' ' ? 1 : 0);
  }
  return max;
}

/** The language tag of a code fence left open at the end of `text` ('' for none), or null when all are closed. */
function openFence(text: string): string | null {
  let open: string | null = null;
  for (const m of text.matchAll(/^```(\S*)/gm)) open = open === null ? m[1]! : null;
  return open;
}
