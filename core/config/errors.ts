import type { z } from 'zod';

/** One thing wrong in a configuration file: where (a field path) and what. */
export interface ConfigProblem {
  /** Field path inside the file, e.g. `handles.slack.botToken` or `humans[0].telegram`. */
  path: string;
  problem: string;
}

/**
 * A configuration mistake the user has to fix. The message always reads
 * `<file>: <path>: <problem>` (one line per problem), so it can be printed as is;
 * the CLI exits with code 2 on it.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The file as shown to the user (relative to the working directory when inside it). */
  readonly file: string;
  /** Path of the first problem. */
  readonly path: string;
  /** What is wrong with the first problem. */
  readonly problem: string;
  /** Every problem found, the first one included. */
  readonly problems: ConfigProblem[];

  constructor(file: string, path: string, problem: string, more: ConfigProblem[] = []) {
    const problems = [{ path, problem }, ...more];
    super(problems.map((p) => formatLine(file, p)).join('\n'));
    this.file = file;
    this.path = path;
    this.problem = problem;
    this.problems = problems;
  }
}

function formatLine(file: string, p: ConfigProblem): string {
  return p.path ? `${file}: ${p.path}: ${p.problem}` : `${file}: ${p.problem}`;
}

/** `['humans', 0, 'telegram']` → `humans[0].telegram`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(String(key))) out += out ? `.${String(key)}` : String(key);
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

const SECRET_FIELD = /token|secret|password|apikey|api_key|privatekey/i;

/** A short, user-facing rendering of a bad value. Secret fields never show their value. */
export function describeValue(value: unknown, fieldName?: string): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (fieldName && SECRET_FIELD.test(fieldName)) return `a ${typeof value}`;
  if (typeof value === 'string') {
    // A URL's password never shows (postgres://user:secret@host).
    const text = value.replace(/^([A-Za-z][\w+.-]*:\/\/[^/@:]*):[^/@]*@/, '$1:***@');
    const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
    return JSON.stringify(shown);
  }
  return String(value);
}

const describeValueOf = describeValue;

/**
 * How a value that a `${VAR}` substitution made is named in a message: by its variables,
 * never by its text, which may be a secret that landed in the wrong field.
 */
export function describeSubstituted(vars: readonly string[]): string {
  const names = vars.map((v) => `$${v}`);
  return names.length === 1 ? `the value of ${names[0]}` : `a value built from ${names.join(', ')}`;
}

const TYPE_NAMES: Record<string, string> = {
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping (key: value)',
  array: 'a list',
};

/**
 * Turns zod issues into a ConfigError naming the file, the field path and the problem.
 * `input` is the data that was validated, used to show the offending value (zod does not
 * keep it through preprocessing); `schema` is used to list the keys that are allowed
 * where an unknown one was found.
 */
export function configErrorFromZod(
  file: string,
  issues: ReadonlyArray<z.core.$ZodIssue>,
  input: unknown,
  schema: z.ZodType,
  opts: {
    all?: boolean;
    pathPrefix?: string;
    emptied?: Map<string, string[]>;
    /** Fields a `${VAR}` substitution made → its variables (InterpolationResult.sources): named, never shown. */
    sources?: Map<string, string[]>;
  } = {},
): ConfigError {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) problems.push(...problemsFromIssue(issue, input, schema, opts.sources));
  for (const p of problems) {
    const vars = p.problem === 'is required' ? opts.emptied?.get(p.path) : undefined;
    if (vars) {
      p.problem = vars.length
        ? `is required, but it came out empty because ${vars.map((v) => `$${v}`).join(', ')} ${vars.length > 1 ? 'are' : 'is'} not set`
        : 'is required, but it came out empty after ${VAR} substitution';
    }
  }
  const prefixed = problems.map((p) => ({
    ...p,
    path: opts.pathPrefix ? (p.path ? `${opts.pathPrefix}.${p.path}` : opts.pathPrefix) : p.path,
  }));
  const shown = opts.all === false ? prefixed.slice(0, 1) : prefixed.slice(0, 20);
  const [first, ...rest] = shown;
  return new ConfigError(file, first?.path ?? '', first?.problem ?? 'is invalid', rest);
}

function problemsFromIssue(issue: z.core.$ZodIssue, input: unknown, schema: z.ZodType, sources?: Map<string, string[]>): ConfigProblem[] {
  const path = issue.path;
  const value = valueAt(input, path);
  const field = String(path[path.length - 1] ?? '');
  const vars = sources?.get(formatPath(path));
  const describeValue = (v: unknown, name?: string): string => (vars ? describeSubstituted(vars) : describeValueOf(v, name));
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(schema, path);
      return issue.keys.map((key) => {
        const guess = known ? closest(key, known) : undefined;
        const hint = guess ? ` (did you mean "${guess}"?)` : '';
        const list = known && known.length ? `; allowed here: ${known.join(', ')}` : '';
        return { path: formatPath([...path, key]), problem: `unknown key${hint}${list}` };
      });
    }
    case 'invalid_type': {
      if (value === undefined) return [{ path: formatPath(path), problem: 'is required' }];
      const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
      return [{ path: formatPath(path), problem: `expected ${expected}, got ${describeValue(value, field)}` }];
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => String(v));
      const expected = values.length === 1 ? values[0] : `one of ${values.join('|')}`;
      return [{ path: formatPath(path), problem: `expected ${expected}, got ${describeValue(value, field)}` }];
    }
    case 'too_small': {
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return [{ path: formatPath(path), problem: 'must not be empty' }];
      if (issue.origin === 'array') return [{ path: formatPath(path), problem: `needs at least ${issue.minimum} item(s)` }];
      return [{ path: formatPath(path), problem: `must be ${issue.inclusive === false ? 'more than' : 'at least'} ${issue.minimum}, got ${describeValue(value, field)}` }];
    }
    case 'too_big': {
      if (issue.origin === 'array') return [{ path: formatPath(path), problem: `takes at most ${issue.maximum} item(s)` }];
      return [{ path: formatPath(path), problem: `must be ${issue.inclusive === false ? 'less than' : 'at most'} ${issue.maximum}, got ${describeValue(value, field)}` }];
    }
    case 'invalid_format':
      return [{ path: formatPath(path), problem: `${issue.message}, got ${describeValue(value, field)}` }];
    case 'invalid_union':
      return [{ path: formatPath(path), problem: `${issue.message === 'Invalid input' ? 'has the wrong type' : issue.message}, got ${describeValue(value, field)}` }];
    default:
      return [{ path: formatPath(path), problem: issue.message }];
  }
}

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

interface SchemaDef {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  /** z.lazy: the sections the registered platforms contribute. */
  getter?: () => z.ZodType;
}

function defOf(schema: z.ZodType): SchemaDef {
  return (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

/** Follows wrappers (optional, default, pipe, lazy, ...) down to the schema that does the work. */
function unwrap(schema: z.ZodType): z.ZodType {
  let cur = schema;
  for (let i = 0; i < 20; i++) {
    const def = defOf(cur);
    const next = def.innerType ?? (def.type === 'pipe' ? def.in : def.type === 'lazy' ? def.getter?.() : undefined);
    if (!next) return cur;
    cur = next;
  }
  return cur;
}

/** The keys an object schema accepts at `path`, for "unknown key" messages. */
function knownKeysAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>): string[] | undefined {
  let cur: z.ZodType | undefined = unwrap(schema);
  for (const key of path) {
    if (!cur) return undefined;
    const def = defOf(cur);
    if (def.type === 'object' && def.shape) cur = def.shape[String(key)];
    else if (def.type === 'array') cur = def.element;
    else if (def.type === 'record') cur = def.valueType;
    else return undefined;
    cur = cur ? unwrap(cur) : undefined;
  }
  if (!cur) return undefined;
  const def = defOf(cur);
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : undefined;
}

/** The allowed key closest to a typo, when it is close enough to be a useful hint. */
function closest(key: string, known: string[]): string | undefined {
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (!best || d < best.d) best = { k, d };
  }
  return best && best.d <= Math.max(1, Math.floor(key.length / 4)) + 1 && best.d < key.length ? best.k : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
