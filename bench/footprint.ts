/**
 * Cold start and idle memory of the real `pantheon start` process (issue 2).
 *
 *   node --import tsx bench/footprint.ts                  # embedded default (PGlite, in-process queue)
 *   node --import tsx bench/footprint.ts --postgres-redis # DATABASE_URL (local PG) + REDIS_URL
 *   options: --runs N (cold starts, default 7)
 *
 * Prints: cold start to /healthz 200 on an existing data dir (median of N); idle RSS of the whole
 * process tree with 8 personas; RSS per further persona (idle, and after every persona answered once).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { startFakeLLM } from '../test/fakes/llm/index.js';
import { CLI, REPO_ROOT } from '../test/support/pantheon-process.js';
import { fmt, median } from './stats.js';

const args = process.argv.slice(2);
const external = args.includes('--postgres-redis');
const runsIdx = args.indexOf('--runs');
const runs = runsIdx >= 0 ? Number(args[runsIdx + 1]) : 7;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** RSS in kB of a process and all its descendants, from /proc. */
async function treeRssKb(root: number): Promise<number> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      /* exited */
    }
  }
  const tree = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parents)
      if (tree.has(ppid) && !tree.has(pid)) {
        tree.add(pid);
        grew = true;
      }
  }
  let total = 0;
  for (const pid of tree) {
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      /* exited */
    }
  }
  return total;
}

/** Median of several RSS readings over two seconds: a single reading depends on when the GC last ran. */
async function sampledRssKb(pid: number): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < 9; i++) {
    readings.push(await treeRssKb(pid));
    await sleep(250);
  }
  return median(readings);
}

async function start(env: NodeJS.ProcessEnv, cwd: string, dataDir: string) {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, 'start', '--data-dir', dataDir, '--port', String(port)], { env, cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pantheon exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    await sleep(5);
  }
  return { child, url, readyMs: performance.now() - t0 };
}

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

async function teamDir(base: string, count: number): Promise<string> {
  const source = join(REPO_ROOT, 'personas', 'team');
  const files = (await readdir(source)).filter((f) => f.endsWith('.yaml'));
  const dir = join(base, `team-${count}`);
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const doc = parse(await readFile(join(source, files[i % files.length]!), 'utf8')) as Record<string, unknown>;
    if (i >= files.length) {
      doc.id = `${doc.id}${i}`;
      doc.name = `${doc.name} ${i}`;
      delete doc.handles;
      delete doc.github;
    }
    await writeFile(join(dir, `${doc.id}.yaml`), stringify(doc));
  }
  return dir;
}

async function main() {
  const base = await mkdtemp(join(tmpdir(), 'pantheon-footprint-'));
  const fake = await startFakeLLM();
  fake.setResponder(() => ({ text: 'ok' }));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    OPENAI_BASE_URL: fake.openaiBaseUrl,
    OPENAI_API_KEY: 'sk-bench-0000000000000000',
    PANTHEON_MODEL: 'openai:gpt-4.1-mini',
    PANTHEON_LOG_LEVEL: 'warn',
  };
  const dbs: string[] = [];
  const admin = 'postgres://postgres@127.0.0.1:5432/postgres';
  const freshDatabase = async () => {
    if (!external) return;
    const name = `pantheon_fp_${randomUUID().slice(0, 8)}`;
    const c = new pg.Client(admin);
    await c.connect();
    await c.query(`CREATE DATABASE ${name}`);
    await c.end();
    dbs.push(name);
    env.DATABASE_URL = admin.replace(/\/[^/]*$/, `/${name}`);
    env.REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  };
  const mode = external ? 'DATABASE_URL + REDIS_URL' : 'embedded default (PGlite + in-process queue)';
  try {
    // Cold start on an existing data dir, 8 personas.
    await freshDatabase();
    const cwd8 = join(base, 'p8');
    await mkdir(cwd8);
    await writeFile(join(cwd8, 'pantheon.yaml'), stringify({ personasDir: await teamDir(base, 8) }));
    const dataDir = join(cwd8, 'data');
    const first = await start(env, cwd8, dataDir);
    await stop(first.child);
    const times: number[] = [];
    let idleRss = 0;
    for (let i = 0; i < runs; i++) {
      const s = await start(env, cwd8, dataDir);
      times.push(s.readyMs);
      if (i === runs - 1) {
        await sleep(2000);
        idleRss = await sampledRssKb(s.child.pid!);
      }
      await stop(s.child);
    }
    console.log(`pantheon start, ${mode}`);
    console.log(
      `  cold start to /healthz 200 (existing data dir): median ${fmt(median(times), 0)} ms over ${runs} runs (first init ${fmt(first.readyMs, 0)} ms); all: ${times.map((t) => t.toFixed(0)).join(', ')}`,
    );
    console.log(`  idle RSS, whole process tree, 8 personas: ${fmt(idleRss / 1024, 1)} MB`);

    // RSS per further persona: idle, and after every persona answered once (its agent built).
    const rows: Array<{ n: number; idle: number; warm: number }> = [];
    for (const n of [1, 8, 32]) {
      await freshDatabase();
      const cwd = join(base, `n${n}`);
      await mkdir(cwd);
      await writeFile(join(cwd, 'pantheon.yaml'), stringify({ personasDir: await teamDir(base, n) }));
      await stop((await start(env, cwd, join(cwd, 'data'))).child); // initialise the data dir
      const s = await start(env, cwd, join(cwd, 'data'));
      await sleep(2000);
      const idle = await sampledRssKb(s.child.pid!);
      const ids = (await readdir(join(base, `team-${n}`))).map((f) => f.replace(/\.yaml$/, ''));
      // The API token pantheon start generated in its data dir.
      const auth = { authorization: `Bearer ${(await readFile(join(cwd, 'data', 'console-token'), 'utf8')).trim()}` };
      await fetch(`${s.url}/api/chat/warm/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({ text: ids.map((id) => `@${id}`).join(' ') + ' ping', user: 'bench' }),
      });
      for (let waited = 0; waited < 60_000; waited += 100) {
        const { messages } = (await (await fetch(`${s.url}/api/chat/warm/messages`, { headers: auth })).json()) as { messages: unknown[] };
        if (messages.length >= n + 1) break;
        await sleep(100);
      }
      await sleep(1000);
      const warm = await sampledRssKb(s.child.pid!);
      rows.push({ n, idle, warm });
      await stop(s.child);
    }
    for (const r of rows) console.log(`  ${String(r.n).padStart(2)} personas: idle ${fmt(r.idle / 1024, 1)} MB, after each answered once ${fmt(r.warm / 1024, 1)} MB`);
    const a = rows[0]!,
      b = rows.at(-1)!;
    console.log(`  RSS per further persona: idle ${fmt((b.idle - a.idle) / 1024 / (b.n - a.n), 2)} MB, answered ${fmt((b.warm - a.warm) / 1024 / (b.n - a.n), 2)} MB`);
  } finally {
    await fake.close();
    for (const name of dbs) {
      const c = new pg.Client(admin);
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    }
    await rm(base, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
