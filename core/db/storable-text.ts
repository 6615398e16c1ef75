/**
 * Text the database accepts. Postgres refuses NUL (U+0000) in `text` and `jsonb`, and `jsonb`
 * refuses a lone UTF-16 surrogate (JSON.stringify writes it as `\udXXX`), so a message carrying
 * either would fail to be stored, or be stored in one table and refused by the next. Every message
 * is normalised once, where it enters (the ingress) and where the team's answers leave (the
 * outbox): NUL is removed and a lone surrogate becomes U+FFFD, the replacement character, which
 * is what a UTF-8 encoder writes for it anyway.
 */

const NUL = /\u0000/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const SUSPECT = /[\u0000\uD800-\uDFFF]/;

/** `text` with NUL removed and lone surrogates replaced by U+FFFD (the same string when it had neither). */
export function storableText(text: string): string {
  if (!SUSPECT.test(text)) return text;
  return text.replace(NUL, '').replace(LONE_SURROGATE, '\uFFFD');
}

/** A copy of a JSON-like value (an envelope, an outbound message) with every string, keys included, made storable. */
export function storable<T>(value: T): T {
  return walk(value) as T;
}

function walk(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(walk);
  if (value && typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[storableText(k)] = walk(v);
    return out;
  }
  return value;
}
