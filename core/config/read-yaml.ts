import { readFile } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from './errors.js';

/** How a file is named in messages: relative to the working directory when inside it. */
export function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/**
 * Reads and parses one YAML file. Syntax errors (and duplicate keys, which YAML forbids)
 * become a ConfigError naming the file, line and column. An empty file is `null`.
 */
export async function readYamlFile(file: string, shownAs: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(shownAs, '', code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? String(err)})`);
  }
  return parseYamlText(text, shownAs);
}

function parseYamlText(text: string, shownAs: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    const where = pos ? `line ${pos.line}, column ${pos.col}` : '';
    const problem = `YAML syntax error: ${first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`;
    throw new ConfigError(shownAs, where, problem);
  }
  return doc.toJS({ maxAliasCount: 100 });
}
