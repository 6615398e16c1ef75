import { z } from 'zod';
import type { PantheonTool } from '../types.js';
import { untrusted } from '../github/untrusted.js';
import { confine } from './confine.js';
import { runProcess, sandboxEnv } from '../sandbox/process.js';
import type { Workspaces } from './workspaces.js';

const DEFAULT_TIMEOUT_S = 300;
const MAX_TIMEOUT_S = 1800;
/** Kept from the start and from the end of the output: the command's first errors and its summary. */
const HEAD_CHARS = 6000;
const TAIL_CHARS = 6000;

const runSchema = z.object({
  workspace: z.string().min(1).describe('The workspace name clone gave (e.g. acme-api-12), or owner/repo#issue'),
  command: z.string().min(1).max(4000).describe('A shell command, e.g. "npm test" or "npx eslint src"'),
  cwd: z.string().optional().describe('A directory inside the workspace (default: its root)'),
  timeout_seconds: z.number().int().min(1).max(MAX_TIMEOUT_S).optional().describe(`Default ${DEFAULT_TIMEOUT_S}`),
});

/**
 * Runs tests, linters and builds in a workspace. The command gets a stripped environment
 * (PATH, a sandbox HOME, LANG, CI=1: no tokens, no keys), starts inside the workspace, is
 * stopped with everything it started at the timeout, and its output is capped head and tail.
 * It has no GitHub credentials: pushing and talking to GitHub go through the tools.
 */
export function runCommandTool(ws: Workspaces): PantheonTool<typeof runSchema> {
  return {
    name: 'run_workspace_command',
    description:
      'Run a shell command (tests, linters, builds, git status/diff/log) in a workspace. No credentials or secrets are available to it; ' +
      'use the push and GitHub tools for anything that talks to GitHub. Long output is cut in the middle.',
    risk: 'write',
    schema: runSchema,
    async run({ workspace, command, cwd, timeout_seconds }) {
      const w = await ws.open(workspace);
      const dir = await confine(w.dir, cwd ?? '.');
      const home = await ws.home(w.name);
      const timeoutS = timeout_seconds ?? DEFAULT_TIMEOUT_S;
      const r = await runProcess('/bin/sh', ['-c', command], { cwd: dir, env: sandboxEnv(home), timeoutMs: timeoutS * 1000, headChars: HEAD_CHARS, tailChars: TAIL_CHARS });
      const status = r.timedOut ? `timed out after ${timeoutS}s (stopped)` : r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`;
      return `$ ${command}\n${status}, ${(r.durationMs / 1000).toFixed(1)}s\n${untrusted(`output of ${command.split('\n')[0]!.slice(0, 80)}`, r.output)}`;
    },
  };
}
