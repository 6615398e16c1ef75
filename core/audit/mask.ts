import { scrubSecrets } from '../log.js';

/** What a secret value becomes. */
const MASK = '***';

/** Longest string kept whole in a masked value; longer ones are cut with a marker. */
const MAX_STRING_CHARS = 2000;
/** Most array items kept; the rest are summarised by a marker item. */
const MAX_ARRAY_ITEMS = 100;
/** Deeper structures are replaced by a marker: an audit row is evidence, not a data dump. */
const MAX_DEPTH = 8;

/**
 * Key names whose values are secrets, compared lowercased with `_`, `-` and `.` removed, so
 * `api_key`, `apiKey` and `API-KEY` are one name. A key that ends with one of the suffixes
 * counts too (`githubToken`, `clientSecret`, `db_password`, `sshPrivateKey`).
 */
const SECRET_EXACT = new Set(['key', 'auth', 'pass', 'pwd', 'cookie', 'setcookie', 'credentials', 'credential', 'sessionid', 'otp', 'pin']);
const SECRET_SUFFIXES = ['token', 'secret', 'password', 'passwd', 'passphrase', 'apikey', 'privatekey', 'secretkey', 'accesskey', 'signingkey', 'authorization', 'cookie', 'credentials'];

function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[-_.\s]/g, '');
}

/** True when a value stored under `key` must never be shown. */
export function isSecretKey(key: string, extraNames: ReadonlySet<string> = new Set()): boolean {
  const k = normaliseKey(key);
  if (extraNames.has(k) || SECRET_EXACT.has(k)) return true;
  return SECRET_SUFFIXES.some((suffix) => k.endsWith(suffix));
}

/** Scrubs known secret values and token shapes from a string, then cuts it to MAX_STRING_CHARS. */
export function maskString(text: string, maxChars = MAX_STRING_CHARS): string {
  const scrubbed = scrubSecrets(text);
  if (scrubbed.length <= maxChars) return scrubbed;
  return `${scrubbed.slice(0, maxChars)}…[truncated ${scrubbed.length - maxChars} chars]`;
}

/**
 * A copy of a tool call's arguments that is safe to store and show.
 *
 * - Values under secret-looking keys (token, secret, password, apiKey, key, authorization,
 *   privateKey, ... at any depth, any case) and under `secretArgNames` (the names a tool
 *   declares secret) become `"***"`, whatever their type.
 * - Strings elsewhere are scrubbed of the secrets the process knows (`registerSecret`) and
 *   of well-known token shapes (`scrubSecrets`), then cut to 2,000 characters with a marker.
 * - The result is plain JSON (dates as ISO strings, binary data and functions as markers,
 *   cycles and over-deep nesting as markers), so it can go into a jsonb column as is.
 *
 * Pure apart from reading the registered secrets; the input is never modified.
 */
export function maskArgs(args: unknown, secretArgNames: readonly string[] = []): unknown {
  const extra = new Set(secretArgNames.map(normaliseKey));
  return maskValue(args, extra, 0, new WeakSet());
}

function maskValue(value: unknown, extra: ReadonlySet<string>, depth: number, seen: WeakSet<object>): unknown {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
      return maskString(value);
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'function':
      return '[function]';
    case 'symbol':
      return value.toString();
  }
  const obj = value as object;
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? 'Invalid Date' : obj.toISOString();
  if (obj instanceof Uint8Array || obj instanceof ArrayBuffer) return `[binary ${obj.byteLength} bytes]`;
  if (obj instanceof Error) return maskString(`${obj.name}: ${obj.message}`);
  if (seen.has(obj)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      const items = obj.slice(0, MAX_ARRAY_ITEMS).map((v) => maskValue(v, extra, depth + 1, seen));
      if (obj.length > MAX_ARRAY_ITEMS) items.push(`…[${obj.length - MAX_ARRAY_ITEMS} more items]`);
      return items;
    }
    if (obj instanceof Map) return maskValue(Object.fromEntries(obj), extra, depth, seen);
    if (obj instanceof Set) return maskValue([...obj], extra, depth, seen);
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(obj)) {
      if (v === undefined) continue;
      out[key] = isSecretKey(key, extra) && v !== null && v !== '' ? MASK : maskValue(v, extra, depth + 1, seen);
    }
    return out;
  } finally {
    // Only the current path counts as a cycle: the same object twice side by side is shown twice.
    seen.delete(obj);
  }
}
