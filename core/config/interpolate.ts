import { readFileSync } from 'node:fs';
import { formatPath } from './errors.js';

/**
 * `${VAR}` substitution over parsed YAML.
 *
 * It runs after parsing, on string values only, so an environment variable can never
 * inject YAML structure. Syntax:
 * - `${VAR}`: the variable's value, or '' when it is unset;
 * - `${VAR:-fallback}`: the fallback when VAR is unset or empty;
 * - `$${VAR}`: the literal text `${VAR}`.
 *
 * A field whose whole value comes out empty because of a substitution is removed, as if it
 * had not been written: `token: "${APOLLO_SLACK_BOT_TOKEN}"` with the variable unset means
 * "no token", not "the empty token". A mapping all of whose fields were removed that way is
 * removed too, so a persona's `slack:` handle disappears when none of its tokens are set.
 *
 * `FOO_FILE=/run/secrets/foo` sets `FOO` when `FOO` itself is unset (the file's text, less one
 * trailing newline), as Docker and Kubernetes secrets are mounted.
 *
 * Every field whose value a substitution made (wholly or in part) is listed in `sources`, so
 * an error about it names the variable instead of printing what may be a secret.
 */
export interface InterpolationResult {
  value: unknown;
  /** Paths of removed fields → the variables that were unset, for "is required" hints. */
  emptied: Map<string, string[]>;
  /** Paths of fields a substitution produced → the variables used (`FOO_FILE` when read from a file). */
  sources: Map<string, string[]>;
}

/** A `FOO_FILE` that cannot be read; `path` is the field that referred to `${FOO}`. */
export class InterpolationError extends Error {
  override readonly name = 'InterpolationError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** The value of a variable, or of the file its `_FILE` twin names; `from` is the variable actually read. */
export function readVariable(env: NodeJS.ProcessEnv, name: string): { value: string; from: string } | undefined {
  const value = env[name];
  if (value !== undefined) return { value, from: name };
  const file = env[`${name}_FILE`];
  if (!file) return undefined;
  try {
    return { value: readFileSync(file, 'utf8').replace(/\r?\n$/, ''), from: `${name}_FILE` };
  } catch (err) {
    throw new Error(`$${name}_FILE names ${file}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

const PATTERN = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function interpolateString(text: string, env: NodeJS.ProcessEnv, unset: string[] = [], used: string[] = []): string {
  return text.replace(PATTERN, (whole, escaped: string, name: string, fallback: string | undefined) => {
    if (escaped) return whole.slice(1);
    const found = readVariable(env, name);
    if (found === undefined || (found.value === '' && fallback !== undefined)) {
      if (fallback !== undefined) return fallback;
      unset.push(name);
      return '';
    }
    used.push(found.from);
    return found.value;
  });
}

export function interpolate(value: unknown, env: NodeJS.ProcessEnv): InterpolationResult {
  const emptied = new Map<string, string[]>();
  const sources = new Map<string, string[]>();
  const REMOVED = Symbol('removed');

  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === 'string') {
      if (!node.includes('${')) return node;
      const unset: string[] = [];
      const used: string[] = [];
      let out: string;
      try {
        out = interpolateString(node, env, unset, used);
      } catch (err) {
        throw new InterpolationError(formatPath(path), (err as Error).message);
      }
      if (out === '' && node !== '') {
        emptied.set(formatPath(path), unset);
        return REMOVED;
      }
      if (used.length) sources.set(formatPath(path), [...new Set(used)]);
      return out;
    }
    if (Array.isArray(node)) {
      // Paths use the index an item has after removals, as the schema will see it.
      const out: unknown[] = [];
      for (const item of node) {
        const next = walk(item, [...path, out.length]);
        if (next !== REMOVED) out.push(next);
      }
      return out;
    }
    if (node !== null && typeof node === 'object') {
      const entries = Object.entries(node as Record<string, unknown>);
      const out: Record<string, unknown> = {};
      for (const [key, child] of entries) {
        const next = walk(child, [...path, key]);
        if (next !== REMOVED) out[key] = next;
      }
      if (entries.length > 0 && Object.keys(out).length === 0) {
        const vars = entries.flatMap(([key]) => emptied.get(formatPath([...path, key])) ?? []);
        emptied.set(formatPath(path), vars);
        return REMOVED;
      }
      return out;
    }
    return node;
  };

  const result = walk(value, []);
  return { value: result === REMOVED ? {} : result, emptied, sources };
}
