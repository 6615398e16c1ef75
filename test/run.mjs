#!/usr/bin/env node
/**
 * `npm test`: builds, makes sure a Redis is reachable, then runs every test/**\/*.test.ts
 * with Node's built-in runner (Node 20's `--test` does not expand globs itself).
 *
 *   npm test                  every test file
 *   npm test -- queue e2e     only files whose path contains "queue" or "e2e"
 *   npm test -- --test-name-pattern=dedupe queue
 *                             arguments starting with "--" go to `node --test` as they are
 *
 * Redis: REDIS_URL if set; otherwise a Redis answering PING on 127.0.0.1:6379; otherwise a
 * throwaway `redis-server` on a free loopback port, stopped at the end. Tests always see
 * REDIS_URL.
 *
 * Environment knobs:
 *   REDIS_URL                          use this Redis, no probing
 *   PANTHEON_TEST_REDIS_PROBE_PORT     port probed instead of 6379 (to test the fallbacks)
 *   PANTHEON_TEST_CONCURRENCY          test files run at once (default 2)
 *   PANTHEON_TEST_TIMEOUT_MS           per-file and per-test timeout (default 600000: the 300 MB
 *                                      memory import takes minutes of CPU on the embedded database)
 *   PANTHEON_TEST_SKIP_BUILD=1         skip the build (when dist/ and dist/console/ are known to be fresh)
 *   PANTHEON_TEST_POSTGRES_URL         the real Postgres some tests use (default the local one on
 *                                      127.0.0.1:5432); none answering skips them, except under CI
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const testDir = path.join(root, 'test');
/** Folders under test/ holding fixtures (fake servers, scripted models), never test files. */
const FIXTURE_DIRS = new Set([path.join(testDir, 'fakes')]);

const cleanups = [];
async function cleanup() {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()();
    } catch {
      // best effort: we are exiting anyway
    }
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    void cleanup().then(() => process.exit(130));
  });
}

function fail(message) {
  console.error(`\n✖ npm test: ${message}\n`);
  return 1;
}

/** True if something at host:port answers PING with +PONG within `timeoutMs`. */
function pingRedis(host, port, timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let reply = '';
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function onPath(command) {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  return dirs.some((dir) => {
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Starts a private redis-server on a free loopback port; registers its shutdown. */
async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pantheon-test-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  let exited = false;
  child.on('exit', () => (exited = true));
  cleanups.push(async () => {
    if (!exited) {
      child.kill('SIGTERM');
      await new Promise((resolve) => {
        child.once('exit', resolve);
        setTimeout(resolve, 3000).unref();
      });
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !exited) {
    if (await pingRedis('127.0.0.1', port, 300)) return `redis://127.0.0.1:${port}`;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

/** The Redis URL the tests will use, or undefined after printing what to install. */
async function resolveRedis() {
  if (process.env.REDIS_URL) {
    console.log(`▸ Redis: ${process.env.REDIS_URL} (from REDIS_URL)`);
    return process.env.REDIS_URL;
  }
  const probePort = Number(process.env.PANTHEON_TEST_REDIS_PROBE_PORT || 6379);
  if (await pingRedis('127.0.0.1', probePort)) {
    console.log(`▸ Redis: redis://127.0.0.1:${probePort} (already running)`);
    return `redis://127.0.0.1:${probePort}`;
  }
  if (onPath('redis-server')) {
    const url = await startRedis();
    if (url) {
      console.log(`▸ Redis: ${url} (started for this run)`);
      return url;
    }
    fail('redis-server was found on PATH but did not answer PING within 10 s.');
    return undefined;
  }
  fail(
    `the tests need Redis, and none answered on 127.0.0.1:${probePort} and redis-server is not on PATH.\n` +
      '  Install it:  apt-get install redis-server   (Debian/Ubuntu)\n' +
      '               brew install redis             (macOS)\n' +
      '  or point the tests at one:  REDIS_URL=redis://host:6379 npm test',
  );
  return undefined;
}

/** Some tests also run against a real Postgres. Outside CI they are skipped (with the reason) when none answers. */
async function resolvePostgres() {
  const url = new URL(process.env.PANTHEON_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres');
  const port = Number(url.port || 5432);
  const up = await new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port });
    socket.setTimeout(500, () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(false));
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
  });
  if (up) {
    console.log(`▸ Postgres: ${url.hostname}:${port}`);
    return true;
  }
  if (process.env.CI) {
    fail(`no PostgreSQL answers at ${url.hostname}:${port}; CI runs the Postgres tests (start it, or set PANTHEON_TEST_POSTGRES_URL).`);
    return false;
  }
  process.env.PANTHEON_TEST_POSTGRES = 'missing';
  console.log(`▸ Postgres: none at ${url.hostname}:${port}; the tests that need one are skipped (apt-get install postgresql, or set PANTHEON_TEST_POSTGRES_URL)`);
  return true;
}

function build() {
  console.log('▸ Build: npm run build (tsc, then the console with Vite)');
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status === 0) return true;
  fail(
    result.error
      ? `could not run the build: ${result.error.message}`
      : 'the build failed (errors above). The end-to-end tests run the compiled dist/ and the browser tests the built console (dist/console/), so fix the build first.',
  );
  return false;
}

function findTestFiles(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!FIXTURE_DIRS.has(full) && entry.name !== 'node_modules') findTestFiles(full, out);
    } else if (entry.isFile() && entry.name.endsWith('.test.ts')) {
      out.push(full);
    }
  }
  return out.sort();
}

/**
 * Files whose first lines say `// test-runner: long` start first, so a long file runs beside the
 * rest instead of alone at the end.
 */
function longFirst(files) {
  const long = (f) => /^\/\/ test-runner: long\b/m.test(readFileSync(f, 'utf8').slice(0, 2000));
  return [...files.filter(long), ...files.filter((f) => !long(f))];
}

function runTests(files, redisUrl, nodeArgs) {
  const concurrency = process.env.PANTHEON_TEST_CONCURRENCY || '2';
  const timeout = process.env.PANTHEON_TEST_TIMEOUT_MS || '600000';
  const args = [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    `--test-timeout=${timeout}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${path.join(testDir, 'support', 'file-times.mjs')}`,
    '--test-reporter-destination=stdout',
    ...nodeArgs,
    ...files.map((f) => path.relative(root, f)),
  ];
  console.log(`▸ Tests: ${files.length} file(s), ${concurrency} at a time\n`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, REDIS_URL: redisUrl, ...(process.stdout.isTTY ? { FORCE_COLOR: '1' } : {}) },
    });
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
    });
    // Output passes straight through; the reporter's totals are remembered so they can be
    // repeated last (Node prints its list of failing tests after them).
    const totals = new Map();
    let pending = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^(?:ℹ|#) (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) (\S+)/.exec(stripAnsi(line));
        if (m) totals.set(m[1], m[2]);
      }
    });
    child.on('close', (code, signal) => {
      const exit = code ?? (signal ? 1 : 0);
      if (totals.size > 0) {
        const show = ['tests', 'pass', 'fail', 'cancelled', 'skipped', 'todo'].map((k) => `${k} ${totals.get(k) ?? 0}`);
        console.log(`\n${exit === 0 ? '✔' : '✖'} npm test: ${show.join(', ')}`);
      } else if (exit !== 0) {
        fail(`the test runner exited with ${signal ?? `code ${exit}`} before reporting totals.`);
      }
      resolve(exit);
    });
  });
}

function stripAnsi(text) {
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}

async function main() {
  const cliArgs = process.argv.slice(2).filter((a) => a !== '--');
  const nodeArgs = cliArgs.filter((a) => a.startsWith('--'));
  const filters = cliArgs.filter((a) => !a.startsWith('--'));
  const all = findTestFiles(testDir);
  const files = filters.length === 0 ? all : all.filter((f) => filters.some((p) => path.relative(root, f).includes(p)));
  if (files.length === 0) {
    return fail(filters.length === 0 ? 'no *.test.ts files found under test/.' : `no test file path contains ${filters.map((p) => `"${p}"`).join(' or ')}.`);
  }

  const redisUrl = await resolveRedis();
  if (!redisUrl) return 1;
  if (!(await resolvePostgres())) return 1;
  if (process.env.PANTHEON_TEST_SKIP_BUILD !== '1' && !build()) return 1;
  return runTests(longFirst(files), redisUrl, nodeArgs);
}

let code = 1;
try {
  code = await main();
} catch (err) {
  code = fail(err instanceof Error ? (err.stack ?? err.message) : String(err));
} finally {
  await cleanup();
}
process.exit(code);
