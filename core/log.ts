import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** Field names whose values are secrets wherever they appear in a log object. */
const SECRET_KEYS = [
  'token',
  'botToken',
  'appToken',
  'apiKey',
  'api_key',
  'password',
  'secret',
  'webhookSecret',
  'signingSecret',
  'privateKey',
  'authorization',
  'Authorization',
  'cookie',
  'x-api-key',
];

const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-telegram-bot-api-secret-token"]',
];

/**
 * Secret values known to the process (persona tokens, API keys from the environment).
 * Path-based redaction misses a secret that ends up inside a message string or an error;
 * every log line is also scrubbed of these exact values before it is written.
 */
const knownSecrets = new Set<string>();

export function registerSecret(value: string | undefined | null): void {
  if (typeof value === 'string' && value.length >= 6) knownSecrets.add(value);
}

/** Environment variables whose values are treated as secrets. */
export function registerEnvSecrets(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(env)) {
    if (/(TOKEN|SECRET|API_KEY|PASSWORD|PRIVATE_KEY)/i.test(name)) registerSecret(value);
  }
}

export function scrubSecrets(text: string): string {
  let out = text;
  for (const s of knownSecrets) if (out.includes(s)) out = out.split(s).join('[REDACTED]');
  // Well-known token shapes, in case a secret we were never told about slips through.
  out = out.replace(/\b(sk-(?:ant-)?[A-Za-z0-9_-]{16,})\b/g, '[REDACTED]');
  out = out.replace(/\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b/g, '[REDACTED]');
  out = out.replace(/\b(xox[abprs]-[A-Za-z0-9-]{10,})\b/g, '[REDACTED]');
  return out;
}

const SECRET_KEY_SET = new Set(SECRET_KEYS.map((k) => k.toLowerCase()));

/** Redacts secret-named fields at any depth (pino's path redaction stops at the depth it is given). */
function redactDeep(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (!value || typeof value !== 'object' || depth > 10) return value;
  if (seen.has(value)) return value;
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1, seen));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY_SET.has(k.toLowerCase()) && v !== undefined && v !== null && v !== '' ? '[REDACTED]' : redactDeep(v, depth + 1, seen);
  }
  return out;
}

export interface LoggerOptions {
  level?: string;
  /** Where lines go; stdout by default. Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.PANTHEON_LOG_LEVEL ?? process.env.LOG_LEVEL ?? 'info';
  return pino(
    {
      level,
      base: { svc: 'pantheon' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      formatters: { log: (obj) => redactDeep(obj) as Record<string, unknown> },
      hooks: { streamWrite: (line) => scrubSecrets(line) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
