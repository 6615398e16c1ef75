// test-runner: long (started first: about 150 s of CPU on the embedded database)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { rssMb, cpuSeconds, sampleRss, settledRss } from '../support/process-rss.js';
import { modelEnv, startPantheonProcess, tempDir, type RunningPantheon } from '../support/pantheon-process.js';

// Its own file (not unauthenticated-load's): on the embedded database the import takes about
// 150 s of CPU, most of it Postgres computing each memory's full-text vector, and a test file
// must finish within the runner's per-file timeout.

const TOKEN = 'import-console-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a large memory import holds memory bounded', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let app: RunningPantheon;
  let llm: FakeLLM;

  before(async () => {
    llm = await startFakeLLM();
    llm.setResponder(() => ({ text: 'noted.' }));
    dir = await tempDir('pantheon-import-load-');
    await writeFile(join(dir.path, 'pantheon.yaml'), 'github:\n  apiUrl: http://127.0.0.1:9\n  throttle: false\n');
    app = await startPantheonProcess({ env: modelEnv(llm, { PANTHEON_CONSOLE_TOKEN: TOKEN }), dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 120_000 });
  });
  after(async () => {
    if (app && app.child.exitCode !== null) console.log(`pantheon exited with ${app.child.exitCode}:\n${app.stderr().slice(-3000)}\n${app.stdout().slice(-3000)}`);
    await app?.stop();
    await llm?.close();
    await dir?.remove();
  });

  it('a 300 MB memory import is streamed: RSS stays under 150 MB above the baseline and /healthz answers throughout', { timeout: 900_000 }, async () => {
    const pid = app.child.pid!;
    const baseline = await settledRss(pid);
    const words = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango '.repeat(600);
    const total = 300 * MB;
    let sent = 0;
    let lineNo = 0;
    // Generated as it is sent: the test holds one line at a time too.
    const body = new Readable({
      read() {
        if (sent >= total) return void this.push(null);
        const line = `${JSON.stringify({ scope: 'team', kind: 'fact', content: `note ${lineNo++}: ${words}`, source: 'load-test' })}\n`;
        sent += Buffer.byteLength(line);
        this.push(line);
      },
    });

    let worstHealthz = 0;
    let checks = 0;
    let importing = true;
    const probe = (async () => {
      while (importing) {
        const t = Date.now();
        const res = await fetch(`${app.url}/healthz`, { signal: AbortSignal.timeout(5000) });
        assert.equal(res.status, 200);
        worstHealthz = Math.max(worstHealthz, Date.now() - t);
        checks++;
        if (checks % 100 === 0) console.log(`import: RSS ${(await rssMb(app.child.pid!)).toFixed(0)} MB`);
        await sleep(200);
      }
    })();
    const sampler = sampleRss(pid);
    const cpuBefore = await cpuSeconds(pid);
    const started = Date.now();
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(`${app.url}/api/memory/import`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/x-ndjson' } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      body.pipe(req);
    }).finally(() => {
      importing = false;
    });
    await probe;
    const peak = await sampler.stop();
    const seconds = (Date.now() - started) / 1000;
    const cpu = (await cpuSeconds(pid)) - cpuBefore;
    const median = sampler.median();
    console.log(
      `import: ${(sent / MB).toFixed(0)} MB in ${lineNo} lines took ${seconds.toFixed(1)} s, ${cpu.toFixed(0)} s of CPU (${answer.status} ${answer.text}); RSS baseline ${baseline.toFixed(0)} MB, median ${median.toFixed(0)} MB, peak ${peak.toFixed(0)} MB; /healthz worst ${worstHealthz} ms over ${checks} checks`,
    );
    assert.equal(answer.status, 200, answer.text);
    assert.equal((JSON.parse(answer.text) as { imported: number }).imported, lineNo);
    // Every sample, not just the typical one: the import holds a line and a statement of at most
    // 256 KB of content, and makes little garbage per line (see MemoryStore.importJsonl).
    assert.ok(peak - baseline < 150, `peak RSS ${peak.toFixed(0)} MB is under 150 MB above the baseline ${baseline.toFixed(0)} MB (median ${median.toFixed(0)} MB)`);
    assert.ok(worstHealthz < 1000, `/healthz answered within ${worstHealthz} ms every time (under 1 s)`);
    assert.ok(checks >= 3, 'the probe ran during the import');
  });
});
