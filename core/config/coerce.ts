import { z } from 'zod';

/**
 * Numbers and booleans that may arrive as strings, because `${VAR}` substitution always
 * produces text (`port: ${PORT}`). Only clean numeric / true|false text is converted;
 * anything else reaches zod unchanged and is reported with its original value.
 */
function numberFromText(v: unknown): unknown {
  return typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v;
}

export const integer = () => z.preprocess(numberFromText, z.number().int());
export const positiveInt = () => z.preprocess(numberFromText, z.number().int().positive());
export const nonNegative = () => z.preprocess(numberFromText, z.number().nonnegative());
/** A TCP port; the server accepts 0 ("any free port", used by tests). */
export const port = (min = 1) => z.preprocess(numberFromText, z.number().int().min(min).max(65535));

export const boolean = () => z.preprocess((v) => (typeof v === 'string' && /^(true|false)$/i.test(v.trim()) ? v.trim().toLowerCase() === 'true' : v), z.boolean());

/** A non-empty string (empty values produced by unset variables are removed before this). */
export const text = () => z.string().min(1);

/** An http(s) base URL, e.g. `https://chat.example.com` or a fake server in tests. */
export const httpUrl = () => z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://chat.example.com' });
/** A Postgres connection URL, e.g. `postgres://pantheon:secret@db:5432/pantheon`. */
export const postgresUrl = () => z.url({ protocol: /^postgres(ql)?$/, error: 'expected a postgres:// or postgresql:// URL such as postgres://user:password@host:5432/pantheon' });
/** A Redis connection URL, e.g. `redis://redis:6379` (`rediss://` for TLS). */
export const redisUrl = () => z.url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL such as redis://localhost:6379' });
