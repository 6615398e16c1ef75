import { splitMessage } from '../format/split.js';

/**
 * Markdown as personas write it, turned into the HTML subset Telegram renders
 * (parse_mode HTML): bold, italic, strike, inline code, fenced code, links, headings (bold),
 * bullets and quotes. Everything else is escaped, so a message can never inject markup.
 * Telegram refuses a message over 4,096 characters (counted after parsing), so long text is
 * split first, in markdown, and each part converted on its own.
 */
export const TELEGRAM_TEXT_LIMIT = 4096;

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The parts to send, each already HTML; the first is labelled with who speaks (`<b>Apollo</b>: …`). */
export function telegramParts(markdown: string, label?: string): string[] {
  const prefix = label ? `${label}: ` : '';
  // Leaves room for the label; bullets and escapes do not lengthen the visible text.
  const parts = splitMessage(markdown.trim() || '…', TELEGRAM_TEXT_LIMIT - prefix.length - 8);
  return parts.map((part, i) => (i === 0 && label ? `<b>${escapeHtml(label)}</b>: ${markdownToHtml(part)}` : markdownToHtml(part)));
}

/** The same parts as plain text, for when Telegram cannot parse our HTML. */
export function plainParts(markdown: string, label?: string): string[] {
  const prefix = label ? `${label}: ` : '';
  return splitMessage(markdown.trim() || '…', TELEGRAM_TEXT_LIMIT - prefix.length - 8).map((p, i) => (i === 0 ? prefix + p : p));
}

const FENCE = /^```([^\n`]*)\n([\s\S]*?)\n?```[ \t]*$/gm;

export function markdownToHtml(markdown: string): string {
  const out: string[] = [];
  let last = 0;
  for (const m of markdown.matchAll(FENCE)) {
    out.push(blocks(markdown.slice(last, m.index)));
    const lang = m[1]!.trim().split(/\s+/)[0];
    const code = escapeHtml(m[2]!);
    out.push(lang && /^[\w+#.-]+$/.test(lang) ? `<pre><code class="language-${lang}">${code}</code></pre>` : `<pre>${code}</pre>`);
    last = m.index + m[0].length;
  }
  out.push(blocks(markdown.slice(last)));
  return out
    .join('')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Line-level markdown: headings, bullets, quotes. */
function blocks(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let quote: string[] = [];
  const flushQuote = () => {
    if (quote.length) out.push(`<blockquote>${quote.join('\n')}</blockquote>`);
    quote = [];
  };
  for (const line of lines) {
    const q = /^\s*>\s?(.*)$/.exec(line);
    if (q) {
      quote.push(inline(q[1]!));
      continue;
    }
    flushQuote();
    const heading = /^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    const bullet = /^(\s*)[-*+]\s+(.*)$/.exec(line);
    if (heading) out.push(`<b>${inline(heading[1]!)}</b>`);
    else if (bullet) out.push(`${bullet[1]}• ${inline(bullet[2]!)}`);
    else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) out.push('──────');
    else out.push(inline(line));
  }
  flushQuote();
  return out.join('\n');
}

/** Inline markdown on one line. Code spans are set aside first so nothing inside them is interpreted. */
function inline(text: string): string {
  const codes: string[] = [];
  let s = text.replace(/`([^`\n]+)`/g, (_, code: string) => {
    codes.push(`<code>${escapeHtml(code)}</code>`);
    return `\u0000${codes.length - 1}\u0000`;
  });
  const links: string[] = [];
  s = s.replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g, (_, label: string, url: string) => {
    links.push(`<a href="${escapeHtml(url)}">${emphasis(escapeHtml(label))}</a>`);
    return `\u0001${links.length - 1}\u0001`;
  });
  s = emphasis(escapeHtml(s));
  return s.replace(/\u0001(\d+)\u0001/g, (_, i: string) => links[Number(i)]!).replace(/\u0000(\d+)\u0000/g, (_, i: string) => codes[Number(i)]!);
}

function emphasis(s: string): string {
  return s
    .replace(/\*\*(?=\S)([^*]+?)\*\*/g, '<b>$1</b>')
    .replace(/(^|[^\w])__(?=\S)([^_]+?)__(?!\w)/g, '$1<b>$2</b>')
    .replace(/~~(?=\S)([^~]+?)~~/g, '<s>$1</s>')
    .replace(/(^|[^*\w])\*(?=\S)([^*]+?)\*(?![*\w])/g, '$1<i>$2</i>')
    .replace(/(^|[^\w])_(?=\S)([^_]+?)_(?!\w)/g, '$1<i>$2</i>');
}
