import { relative } from 'node:path';
import { z } from 'zod';
import type { PantheonTool } from '../types.js';
import { untrusted, UNTRUSTED_NOTE } from '../github/untrusted.js';
import { confine } from './confine.js';
import { gitInWorkspace } from './git.js';
import { runInWorkspace } from './sandboxed.js';
import type { Workspaces } from './workspaces.js';

const workspaceArg = z.string().min(1).describe('The workspace name clone gave (e.g. acme-api-12), or owner/repo#issue');
const MAX_LIST = 1000;
const MAX_READ_CHARS = 100_000;
const MAX_MATCHES = 200;
const MAX_WRITE_CHARS = 1_000_000;

/** Reading and editing files in a workspace; every path stays inside it. */
export function fileTools(ws: Workspaces): PantheonTool[] {
  return [listFiles(ws), readFileTool(ws), searchFiles(ws), writeFileTool(ws), applyPatch(ws)];
}

const listSchema = z.object({ workspace: workspaceArg, path: z.string().optional().describe('A directory to list (default: the whole workspace)') });

function listFiles(ws: Workspaces): PantheonTool<typeof listSchema> {
  return {
    name: 'list_files',
    description: 'List the files of a workspace (tracked and new, without ignored ones), optionally under one directory.',
    risk: 'read',
    schema: listSchema,
    async run({ workspace, path }) {
      const w = await ws.open(workspace);
      const target = await confine(w.dir, path ?? '.');
      const r = await gitInWorkspace(ws.sandbox, await ws.place(w.name), ['ls-files', '--cached', '--others', '--exclude-standard', '--', relative(w.dir, target) || '.']);
      const files = r.stdout.split('\n').filter(Boolean);
      if (!files.length) return `No files${path ? ` under ${path}` : ''} in ${w.name}.`;
      const shown = files.slice(0, MAX_LIST);
      return `${files.length} file(s)${files.length > shown.length ? `, the first ${shown.length}; list a directory to see more` : ''}:\n${shown.join('\n')}`;
    },
  };
}

const readSchema = z.object({
  workspace: workspaceArg,
  path: z.string().min(1),
  start_line: z.number().int().positive().optional(),
  end_line: z.number().int().positive().optional(),
});

function readFileTool(ws: Workspaces): PantheonTool<typeof readSchema> {
  return {
    name: 'read_file',
    description: `Read a file of a workspace, or a range of its lines. ${UNTRUSTED_NOTE.replace('from GitHub', 'from the repository')}`,
    risk: 'read',
    schema: readSchema,
    async run({ workspace, path, start_line, end_line }) {
      const w = await ws.open(workspace);
      const file = await confine(w.dir, path);
      const from = Math.max(1, start_line ?? 1);
      // Read in the sandbox: a symlink in the checkout leads nowhere but the sandbox's own view.
      const r = await runInWorkspace(ws.sandbox, await ws.place(w.name), ['/bin/sh', '-c', READ_SCRIPT, 'read_file', file, String(from), end_line ? String(end_line) : '$'], {
        timeoutMs: 60_000,
        network: 'none',
        headChars: 0,
        tailChars: 0,
      });
      if (r.code === 4) throw new Error(`No file ${path} in ${w.name}: list_files shows what is there.`);
      if (r.code === 3) throw new Error(`${path} is a directory: use list_files.`);
      if (r.code !== 0) throw new Error(`reading ${path} failed: ${r.stderr.trim() || r.limitMessage || `exit code ${r.code}`}`);
      const [newlines, nuls, size, ...rest] = r.stdout.split('\n');
      if (Number(nuls) > 0) return `${path} is a binary file (${Number(size)} bytes); not shown.`;
      const total = Number(newlines) + 1;
      const to = Math.min(total, end_line ?? total);
      let text = rest.join('\n');
      // sed prints the range with its final newline; the line after it is not part of the file's text.
      if (text.endsWith('\n')) text = text.slice(0, -1);
      const cut = text.length > MAX_READ_CHARS;
      if (cut) text = text.slice(0, MAX_READ_CHARS);
      const range = from > 1 || to < total ? `lines ${from}-${to} of ${total}` : `${total} lines`;
      return `${path} (${range})${cut ? `, cut at ${MAX_READ_CHARS} characters: read a line range for the rest` : ''}:\n${untrusted(`${w.name}/${path}`, text)}`;
    },
  };
}

/** read_file in the sandbox: newline count, NULs in the first 8000 bytes, size, then the lines asked for. */
const READ_SCRIPT =
  'f="$1"; [ -d "$f" ] && exit 3; [ -f "$f" ] || exit 4\n' +
  'wc -l < "$f" | tr -d " "; head -c 8000 -- "$f" | tr -d -c "\\000" | wc -c | tr -d " "; wc -c < "$f" | tr -d " "\n' +
  'sed -n "$2,$3p" -- "$f" | head -c ' +
  String(4 * 100_000) +
  '\n';

/** write_file in the sandbox: says whether the file existed, makes its directory, writes standard input. */
const WRITE_SCRIPT = 'f="$1"; [ -d "$f" ] && exit 3; [ -e "$f" ] && echo existed\n' + 'mkdir -p -- "$(dirname -- "$f")" && cat > "$f"\n';

const searchSchema = z.object({
  workspace: workspaceArg,
  pattern: z.string().min(1),
  regex: z.boolean().optional().describe('Treat the pattern as an extended regular expression (default: plain text)'),
  ignore_case: z.boolean().optional(),
  path: z.string().optional().describe('Only under this directory or file'),
});

function searchFiles(ws: Workspaces): PantheonTool<typeof searchSchema> {
  return {
    name: 'search_files',
    description: `Search the text files of a workspace (git grep): matching lines with file and line number. ${UNTRUSTED_NOTE.replace('from GitHub', 'from the repository')}`,
    risk: 'read',
    schema: searchSchema,
    async run({ workspace, pattern, regex, ignore_case, path }) {
      const w = await ws.open(workspace);
      const where = relative(w.dir, await confine(w.dir, path ?? '.')) || '.';
      const args = ['grep', '-n', '-I', '--untracked', '--no-color', regex ? '-E' : '-F', ...(ignore_case ? ['-i'] : []), '-e', pattern, '--', where];
      const r = await gitInWorkspace(ws.sandbox, await ws.place(w.name), args, { timeoutMs: 60_000 });
      if (r.code === 1) return `No matches for ${JSON.stringify(pattern)} in ${w.name}${path ? `/${path}` : ''}.`;
      if (r.code !== 0) throw new Error(`search failed: ${r.stderr.trim()}`);
      const lines = r.stdout.split('\n').filter(Boolean);
      const shown = lines.slice(0, MAX_MATCHES).map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l));
      return `${lines.length} matching line(s)${lines.length > shown.length ? `, the first ${shown.length}` : ''}:\n${untrusted(`search results in ${w.name}`, shown.join('\n'))}`;
    },
  };
}

const writeSchema = z.object({
  workspace: workspaceArg,
  path: z.string().min(1),
  content: z.string().max(MAX_WRITE_CHARS).describe('The whole new content of the file'),
});

function writeFileTool(ws: Workspaces): PantheonTool<typeof writeSchema> {
  return {
    name: 'write_file',
    description: 'Create or overwrite a file in a workspace with the given content (directories are created as needed).',
    risk: 'write',
    schema: writeSchema,
    async run({ workspace, path, content }) {
      const w = await ws.open(workspace);
      const file = await confine(w.dir, path, { write: true });
      // Written in the sandbox: whatever the checkout's symlinks say, only the sandbox's view is reachable.
      const r = await runInWorkspace(ws.sandbox, await ws.place(w.name), ['/bin/sh', '-c', WRITE_SCRIPT, 'write_file', file], { timeoutMs: 60_000, network: 'none', input: content, checkQuota: true });
      if (r.code === 3) throw new Error(`${path} is a directory`);
      if (r.code !== 0) throw new Error(`writing ${path} failed: ${r.stderr.trim() || r.limitMessage || `exit code ${r.code}`}`);
      return `${/existed/.test(r.stdout) ? 'Overwrote' : 'Created'} ${path} (${Buffer.byteLength(content)} bytes) in ${w.name}.`;
    },
  };
}

const patchSchema = z.object({
  workspace: workspaceArg,
  patch: z.string().min(1).max(MAX_WRITE_CHARS).describe('A unified diff (as `git diff` writes it, paths relative to the workspace root with a/ and b/ prefixes)'),
});

function applyPatch(ws: Workspaces): PantheonTool<typeof patchSchema> {
  return {
    name: 'apply_patch',
    description: 'Apply a unified diff to a workspace (git apply). All of it applies, or nothing does.',
    risk: 'write',
    schema: patchSchema,
    async run({ workspace, patch }) {
      const w = await ws.open(workspace);
      const at = await ws.place(w.name);
      // The patch goes in on standard input: the sandbox sees no file of Pantheon's.
      const input = patch.endsWith('\n') ? patch : `${patch}\n`;
      const git = (args: string[]) => gitInWorkspace(ws.sandbox, at, args, { input });
      const check = await git(['apply', '--check', '--whitespace=nowarn', '-']);
      if (check.code !== 0) {
        // A replayed call finds its patch already in place.
        if ((await git(['apply', '--check', '--reverse', '-'])).code === 0) return `Already applied: the workspace already has this change.`;
        return `Patch not applied (nothing changed): ${check.stderr.trim() || check.stdout.trim()}. Read the file again and make the diff match it, or use write_file.`;
      }
      const applied = await git(['apply', '--whitespace=nowarn', '--stat', '--apply', '-']);
      if (applied.code !== 0) throw new Error(`git apply failed: ${applied.stderr.trim()}`);
      return `Applied to ${w.name}:\n${applied.stdout.trim()}`;
    },
  };
}
