import { randomUUID } from 'node:crypto';
import type { Logger } from './log.js';

/**
 * What a chat may be told of an unexpected failure: that it happened and its reference, never
 * its text (a database error names tables, constraints and what was refused). The text goes to
 * the log, under the same reference, for the operator.
 */
export function reportInternalError(logger: Logger, err: unknown, context: Record<string, unknown>, what: string): { ref: string } {
  const ref = `err-${randomUUID().slice(0, 8)}`;
  logger.error({ err, errorRef: ref, ...context }, what);
  return { ref };
}

/** The sentence posted in place of an internal error. */
export const internalErrorText = (intro: string, ref: string) => `${intro} because of an internal error (reference ${ref}; the server log has the details).`;

/**
 * A database driver's error (node-postgres or PGlite): a five-character SQLSTATE code and a
 * severity. Its text is for the log, not for a chat or a model that may repeat it there.
 */
export function isDatabaseError(err: unknown): boolean {
  const e = err as { code?: unknown; severity?: unknown } | null;
  return !!e && typeof e === 'object' && typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string';
}
