/**
 * First load of the web console (issue 18): a cold browser (a fresh context: no cache, only the
 * session cookie) opening `/` on the local `pantheon start`, timed by the browser itself.
 *
 *   node --import tsx bench/console-load.ts            # options: --runs N (default 7)
 *
 * Needs Debian's Chromium at /usr/bin/chromium and a built console (`npm run build`). Prints the
 * median time from navigation start to the team view rendered, and the bytes transferred until
 * then and once the page settled (charts and their library loaded). Target: under 1 s.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeLLM } from '../test/fakes/llm/index.js';
import { chromiumMissing, launchChromium, loginLink, measureFirstLoad, signIn } from '../test/support/console-browser.js';
import { modelEnv, startPantheonProcess, tempDir } from '../test/support/pantheon-process.js';
import { fmt, median } from './stats.js';

const args = process.argv.slice(2);
const runsIdx = args.indexOf('--runs');
const runs = runsIdx >= 0 ? Number(args[runsIdx + 1]) : 7;

const missing = chromiumMissing();
if (missing) {
  console.error(missing);
  process.exit(1);
}
const fake = await startFakeLLM();
const dir = await tempDir('pantheon-bench-console-');
await writeFile(join(dir.path, 'pantheon.yaml'), 'humans:\n  - { id: jeff, local: jeff, approver: true }\n');
const app = await startPantheonProcess({ env: modelEnv(fake), dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 120_000 });
const browser = await launchChromium();
try {
  const signedIn = await browser.newContext();
  await signIn(signedIn, await loginLink(app, 'jeff'));
  const loads = [];
  for (let i = 0; i < runs; i++) loads.push(await measureFirstLoad(browser, app, signedIn));
  const ms = median(loads.map((l) => l.msToTeam));
  console.log(`console first load, cold, local (median of ${runs}):`);
  console.log(`  team view rendered after   ${fmt(ms, 0)} ms (target < 1000 ms)`);
  console.log(`  transferred until then      ${fmt(median(loads.map((l) => l.bytesToTeam)) / 1024, 1)} KB`);
  console.log(`  transferred once settled    ${fmt(median(loads.map((l) => l.bytesSettled)) / 1024, 1)} KB`);
} finally {
  await browser.close();
  await app.stop();
  await fake.close();
  await dir.remove();
}
