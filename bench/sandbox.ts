/**
 * Sandbox overhead (issue 12): what the sandbox adds to one command a persona runs, against the
 * same command run unsandboxed (UnsandboxedRunner: clean environment, timeout, output limit) in
 * the same run. Two commands, each through `/bin/sh -c` as run_workspace_command runs them:
 * `true` (the sandbox's fixed cost) and `npm test` of a small repository the bench writes to a
 * temp dir (`node --test` on one test file, no dependencies). Sandboxed with network none and
 * network egress. The modes are interleaved, each round in a rotated order, so drift and order
 * effects fall on all of them alike; warm-up rounds are discarded. Time is the caller's: from
 * `sandbox.run()` to its result, so cgroup creation, slirp4netns and clean-up count.
 *
 *   node --import tsx bench/sandbox.ts
 *   options: --runs N (rounds per command; default 30 for true, 10 for npm test),
 *            --warmup N (default 3), --backend auto|bubblewrap|docker|podman (default: the config's, auto)
 *
 * Target: under 150 ms added at p50.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pantheonConfigSchema, SANDBOX_BACKENDS } from '../core/config/schema.js';
import { resolveSandbox } from '../tools/sandbox/resolve.js';
import { SandboxUnavailableError, type Sandbox, type SandboxNetwork } from '../tools/sandbox/types.js';
import { UnsandboxedRunner } from '../tools/sandbox/unsandboxed.js';
import { fmt, percentile } from './stats.js';

const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const runsArg = opt('--runs');
const warmup = Number(opt('--warmup') ?? 3);
const backendArg = opt('--backend');
if (runsArg !== undefined && !(Number(runsArg) > 0)) throw new Error('--runs is a positive number');
if (backendArg !== undefined && !(SANDBOX_BACKENDS as readonly string[]).includes(backendArg)) throw new Error(`--backend is one of ${SANDBOX_BACKENDS.join(', ')}`);

const TARGET_MS = 150;
const TIMEOUT_MS = 120_000;

interface Command {
  label: string;
  script: string;
  runs: number;
}

const commands: Command[] = [
  { label: 'true', script: 'true', runs: Number(runsArg ?? 30) },
  { label: 'npm test', script: 'npm test', runs: Number(runsArg ?? 10) },
];

type Mode = { name: string; runner: Sandbox; network: SandboxNetwork };

/** A repository as a persona would have cloned it: one test file, no dependencies. */
async function writeRepo(dir: string): Promise<void> {
  await mkdir(join(dir, 'test'), { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name: 'bench-repo', version: '1.0.0', private: true, scripts: { test: 'node --test test/' } }, null, 2)}\n`);
  await writeFile(join(dir, 'index.js'), 'exports.add = (a, b) => a + b;\nexports.words = (s) => s.split(/\\s+/).filter(Boolean);\n');
  await writeFile(
    join(dir, 'test', 'index.test.js'),
    [
      "const test = require('node:test');",
      "const assert = require('node:assert');",
      "const { add, words } = require('../index.js');",
      "test('adds', () => { assert.strictEqual(add(2, 3), 5); });",
      "test('splits words', () => { assert.deepStrictEqual(words(' a b  c '), ['a', 'b', 'c']); });",
      '',
    ].join('\n'),
  );
}

async function main() {
  const root = await mkdtemp(join(tmpdir(), 'pantheon-bench-sandbox-'));
  try {
    const config = pantheonConfigSchema.parse({ sandbox: backendArg ? { backend: backendArg } : {} }).sandbox;
    const dataDir = join(root, 'data');
    await mkdir(dataDir, { mode: 0o700 });
    const resolved = await resolveSandbox(config, { dataDir });
    for (const w of resolved.warnings) console.log(`warning: ${w}`);
    if (!resolved.sandbox) throw resolved.problem ?? new Error('no sandbox');
    if (resolved.sandbox.backend === 'none') throw new Error('sandbox.backend is none: nothing to compare');
    const sandbox = resolved.sandbox;

    const workspace = join(root, 'workspace');
    const home = join(root, 'home');
    await mkdir(workspace, { mode: 0o700 });
    await mkdir(home, { mode: 0o700 });
    await writeRepo(workspace);

    const modes: Mode[] = [
      { name: 'unsandboxed', runner: new UnsandboxedRunner(config.limits), network: 'egress' },
      { name: 'sandbox, network none', runner: sandbox, network: 'none' },
      { name: 'sandbox, network egress', runner: sandbox, network: 'egress' },
    ];
    // Without slirp4netns the backend has no egress: measure what it has, and say so.
    const egressProblem = await sandbox.run({ argv: ['/bin/true'], workspace, cwd: workspace, home, network: 'egress', timeoutMs: TIMEOUT_MS }).then(
      () => undefined,
      (err: unknown) => (err instanceof SandboxUnavailableError ? err.message : Promise.reject(err)),
    );
    if (egressProblem) {
      console.log(`network egress not measured: ${egressProblem}`);
      modes.pop();
    }

    const failures: string[] = [];
    const once = async (mode: Mode, script: string) => {
      const t0 = performance.now();
      const r = await mode.runner.run({ argv: ['/bin/sh', '-c', script], workspace, cwd: workspace, home, network: mode.network, timeoutMs: TIMEOUT_MS });
      const ms = performance.now() - t0;
      if (r.code === 0) return ms;
      const why = `${script} (${mode.name}) exited ${r.code ?? r.signal}${r.limitMessage ? `: ${r.limitMessage}` : ''}: ${r.output.trim().slice(-500)}`;
      // A failure is a finding, not a sample: counted and shown, never timed.
      failures.push(why);
      if (failures.length > 3) throw new Error(`too many failed runs:\n${failures.join('\n')}`);
      return undefined;
    };

    console.log(`sandbox overhead per command: ${availableParallelism()} cores, Node ${process.versions.node}, Linux ${release()}`);
    console.log(`  ${sandbox.describe()}`);
    console.log(`  each command via /bin/sh -c in ${workspace}; modes interleaved, rotated each round; ${warmup} warm-up rounds discarded`);
    console.log();
    const rows: string[][] = [];
    let worst = -Infinity;
    for (const cmd of commands) {
      const times = new Map(modes.map((m) => [m.name, [] as number[]]));
      for (let round = 0; round < warmup + cmd.runs; round++) {
        // Rotate the order so no mode always runs first (after an idle gap) or last.
        const order = modes.map((_, i) => modes[(i + round) % modes.length]!);
        for (const mode of order) {
          const ms = await once(mode, cmd.script);
          if (round >= warmup && ms !== undefined) times.get(mode.name)!.push(ms);
        }
      }
      const base = times.get('unsandboxed')!;
      const base50 = percentile(base, 50);
      for (const mode of modes) {
        const t = times.get(mode.name)!;
        const p50 = percentile(t, 50);
        const sandboxed = mode.runner !== modes[0]!.runner;
        if (sandboxed) worst = Math.max(worst, p50 - base50);
        rows.push([`${cmd.label} (${t.length} runs)`, mode.name, fmt(p50, 1), fmt(percentile(t, 95), 1), sandboxed ? `+${fmt(p50 - base50, 1)}` : '', sandboxed ? `${fmt(p50 / base50)}x` : '']);
      }
    }
    const header = ['command', 'mode', 'p50 ms', 'p95 ms', 'overhead p50 ms', 'ratio p50'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => `  ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
    console.log(line(header));
    for (const r of rows) console.log(line(r));
    console.log();
    if (failures.length) console.log(`failed runs, not timed (${failures.length}):\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
    console.log(`target: the sandbox adds under ${TARGET_MS} ms at p50 — ${worst < TARGET_MS ? 'met' : 'NOT met'} (largest: +${fmt(worst, 1)} ms)`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
