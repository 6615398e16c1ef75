import { z } from 'zod';
import type { PantheonTool } from '../types.js';
import { untrusted } from '../github/untrusted.js';
import { confine } from './confine.js';
import { runInWorkspace } from './sandboxed.js';
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
 * Runs tests, linters and builds in a workspace, in the sandbox (tools/sandbox): it sees the
 * workspace and its own HOME and /tmp, not Pantheon; it has the persona's network (the outside
 * world or none, never the host); it is stopped with everything it started at its limits, and
 * its output is capped head and tail. It has no credentials: pushing and talking to GitHub go
 * through the tools. Unsandboxed (`sandbox.backend: none`), every call waits for an approver.
 */
export function runCommandTool(ws: Workspaces): PantheonTool<typeof runSchema> {
  const unsandboxed = ws.sandboxing?.resolved.sandbox?.backend === 'none';
  return {
    name: 'run_workspace_command',
    description:
      'Run a shell command (tests, linters, builds, git status/diff/log) in a workspace, in a sandbox. No credentials or secrets are available to it, ' +
      "and it cannot reach Pantheon's host; use the push and GitHub tools for anything that talks to GitHub. Long output is cut in the middle.",
    risk: 'write',
    alwaysAsk: unsandboxed,
    schema: runSchema,
    describeCall: unsandboxed ? () => ({ sandbox: "NONE: this command runs unsandboxed on Pantheon's host" }) : undefined,
    async run({ workspace, command, cwd, timeout_seconds }) {
      const w = await ws.open(workspace);
      const dir = await confine(w.dir, cwd ?? '.');
      const timeoutS = timeout_seconds ?? DEFAULT_TIMEOUT_S;
      const r = await runInWorkspace(ws.sandbox, await ws.place(w.name), ['/bin/sh', '-c', command], {
        cwd: dir,
        timeoutMs: timeoutS * 1000,
        headChars: HEAD_CHARS,
        tailChars: TAIL_CHARS,
        checkQuota: true,
      });
      await ws.touch(w.name);
      const status = r.limitMessage ?? (r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`);
      return `$ ${command}\n${status}, ${(r.durationMs / 1000).toFixed(1)}s\n${untrusted(`output of ${command.split('\n')[0]!.slice(0, 80)}`, r.output)}`;
    },
  };
}
