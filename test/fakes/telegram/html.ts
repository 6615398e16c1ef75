/**
 * The Bot API's parse_mode HTML, as strictly as Telegram applies it: only its tags, properly
 * nested; `<`, `>` and `&` outside tags escaped. Returns the visible text (what the 4,096
 * limit counts) or the error Telegram would answer with.
 */
const TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'span', 'tg-spoiler', 'a', 'code', 'pre', 'blockquote', 'tg-emoji']);
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"' };

export function parseTelegramHtml(html: string): { ok: true; text: string } | { ok: false; error: string } {
  const stack: string[] = [];
  let text = '';
  let i = 0;
  while (i < html.length) {
    const ch = html[i]!;
    if (ch === '<') {
      const end = html.indexOf('>', i);
      if (end < 0) return { ok: false, error: `Can't find end of the entity starting at byte offset ${i}` };
      const tag = html.slice(i + 1, end);
      const close = /^\/([a-z-]+)\s*$/.exec(tag);
      const open = /^([a-z-]+)(\s+[^<>]*)?$/.exec(tag);
      if (close) {
        if (stack.pop() !== close[1]) return { ok: false, error: `Can't find end tag corresponding to start tag "${close[1]}"` };
      } else if (open) {
        if (!TAGS.has(open[1]!)) return { ok: false, error: `Unsupported start tag "${open[1]}" at byte offset ${i}` };
        if (open[1] === 'a' && !/\shref="[^"]*"/.test(open[2] ?? '')) return { ok: false, error: 'Can\'t find "href" attribute of the "a" tag' };
        stack.push(open[1]!);
      } else {
        return { ok: false, error: `Unsupported start tag "${tag.slice(0, 20)}" at byte offset ${i}` };
      }
      i = end + 1;
      continue;
    }
    if (ch === '>') return { ok: false, error: `Unexpected end tag at byte offset ${i}` };
    if (ch === '&') {
      const m = /^&(amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);/.exec(html.slice(i, i + 12));
      if (!m) return { ok: false, error: `Unsupported HTML entity at byte offset ${i}` };
      const name = m[1]!;
      text += ENTITIES[name] ?? String.fromCodePoint(name.startsWith('#x') ? parseInt(name.slice(2), 16) : Number(name.slice(1)));
      i += m[0].length;
      continue;
    }
    text += ch;
    i++;
  }
  if (stack.length) return { ok: false, error: `Can't find end tag corresponding to start tag "${stack.at(-1)}"` };
  return { ok: true, text };
}
