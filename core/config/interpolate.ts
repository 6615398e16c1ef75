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
 */
export interface InterpolationResult {
  value: unknown;
  /** Paths of removed fields → the variables that were unset, for "is required" hints. */
  emptied: Map<string, string[]>;
}

const PATTERN = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function interpolateString(text: string, env: NodeJS.ProcessEnv, unset: string[] = []): string {
  return text.replace(PATTERN, (whole, escape: string, name: string, fallback: string | undefined) => {
    if (escape) return whole.slice(1);
    const value = env[name];
    if (value === undefined || (value === '' && fallback !== undefined)) {
      if (fallback !== undefined) return fallback;
      unset.push(name);
      return '';
    }
    return value;
  });
}

export function interpolate(value: unknown, env: NodeJS.ProcessEnv): InterpolationResult {
  const emptied = new Map<string, string[]>();
  const REMOVED = Symbol('removed');

  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === 'string') {
      if (!node.includes('${')) return node;
      const unset: string[] = [];
      const out = interpolateString(node, env, unset);
      if (out === '' && node !== '') {
        emptied.set(formatPath(path), unset);
        return REMOVED;
      }
      return out;
    }
    if (Array.isArray(node)) {
      return node.map((item, i) => walk(item, [...path, i])).filter((item) => item !== REMOVED);
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
  return { value: result === REMOVED ? {} : result, emptied };
}
