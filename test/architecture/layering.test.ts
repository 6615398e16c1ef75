import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../support/pantheon-process.js';

const run = promisify(execFile);
const DEPCRUISE = join(REPO_ROOT, 'node_modules', '.bin', 'depcruise');
const CONFIG = join(REPO_ROOT, '.dependency-cruiser.cjs');

/** Runs the layering check (the same command as `npm run check:deps`) in `cwd`; answers its exit code and output. */
async function check(cwd: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(DEPCRUISE, ['--config', CONFIG, '--output-type', 'err', '.'], { cwd, timeout: 120_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** A small tree of TypeScript files (path → source) with a tsconfig, as the project has. */
async function tree(files: Record<string, string>): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'pantheon-layering-'));
  await writeFile(join(path, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true } }));
  for (const [file, source] of Object.entries(files)) {
    await mkdir(dirname(join(path, file)), { recursive: true });
    await writeFile(join(path, file), source);
  }
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

describe('the layering of docs/architecture.md, checked', () => {
  it('the tree has no dependency violation and no folder cycle', async () => {
    const { code, out } = await check(REPO_ROOT);
    assert.equal(code, 0, out);
    assert.match(out, /no dependency violations found/);
  });

  it('fails on a deliberately wrong import: an adapter that imports the orchestrator, core that imports a platform', async () => {
    const t = await tree({
      'core/chat/types.ts': `export interface Envelope { id: string }\n`,
      'orchestrator/turn.ts': `import type { Envelope } from '../core/chat/types.js';\nexport const run = (e: Envelope) => e.id;\n`,
      'platforms/slack/inbound.ts': `import { run } from '../../orchestrator/turn.js';\nexport const handle = () => run({ id: 'x' });\n`,
      'core/http/server.ts': `import { handle } from '../../platforms/slack/inbound.js';\nexport const serve = handle;\n`,
    });
    try {
      const { code, out } = await check(t.path);
      assert.notEqual(code, 0, out);
      assert.match(out, /adapters-never-run-agents: platforms\/slack\/inbound\.ts → orchestrator\/turn\.ts/);
      assert.match(out, /core-is-the-bottom: core\/http\/server\.ts → platforms\/slack\/inbound\.ts/);
    } finally {
      await t.remove();
    }
  });

  it('fails on tools that import a platform, and on two folders that import each other', async () => {
    const t = await tree({
      'platforms/github/client.ts': `export const client = 1;\n`,
      'tools/github/session.ts': `import { client } from '../../platforms/github/client.js';\nexport const session = client;\n`,
      'tools/a/one.ts': `import { two } from '../b/two.js';\nexport const one = () => two();\n`,
      'tools/b/two.ts': `import { one } from '../a/one.js';\nexport const two = (): number => (one as unknown as number);\n`,
    });
    try {
      const { code, out } = await check(t.path);
      assert.notEqual(code, 0, out);
      assert.match(out, /tools-never-import-platforms: tools\/github\/session\.ts → platforms\/github\/client\.ts/);
      assert.match(out, /no-folder-cycles: tools\/(a|b)/);
    } finally {
      await t.remove();
    }
  });

  it("lets the console import the server's types, which the build erases, and fails on its importing server code", async () => {
    const t = await tree({
      'web/timeline.ts': `export interface TimelineEntry { id: string }\nexport const threadTimeline = (): TimelineEntry[] => [];\n`,
      'console/src/types.ts': `export type { TimelineEntry } from '../../web/timeline.js';\n`,
      'console/src/views/conversation.ts': `import type { TimelineEntry } from '../types.js';\nexport const first = (t: TimelineEntry[]) => t[0];\n`,
    });
    try {
      const allowed = await check(t.path);
      assert.equal(allowed.code, 0, allowed.out);
      await writeFile(join(t.path, 'console/src/views/timeline.ts'), `import { threadTimeline } from '../../../web/timeline.js';\nexport const all = threadTimeline;\n`);
      const { code, out } = await check(t.path);
      assert.notEqual(code, 0, out);
      assert.match(out, /console-is-a-browser-app: console\/src\/views\/timeline\.ts → web\/timeline\.ts/);
    } finally {
      await t.remove();
    }
  });
});
