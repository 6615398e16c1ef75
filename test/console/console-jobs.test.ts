import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { chromiumMissing, launchChromium, text, loginLink, screenshot, signIn } from '../support/console-browser.js';
import { authFor, modelEnv, postMessage, startPantheonProcess, tempDir, waitForMessage, type RunningPantheon } from '../support/pantheon-process.js';
import { runningInGroup, startSshd, type TestSshd } from '../support/sshd.js';

const skip = chromiumMissing();
if (skip) console.log(`# skipped: ${skip}`);

interface JobJson {
  id: string;
  status: string;
  remotePid: number | null;
  cancelledBy: string | null;
}

/** An infra job on a real OpenSSH server, followed in the console: its log streams in, and Cancel stops it. */
describe('web console: a job log streams and Cancel stops the job', { skip }, () => {
  let fake: FakeLLM;
  let sshd: TestSshd;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: RunningPantheon;
  let browser: Browser;

  before(async () => {
    fake = await startFakeLLM();
    dir = await tempDir();
    sshd = await startSshd();
    writeFileSync(
      join(dir.path, 'pantheon.yaml'),
      [
        'humans:',
        '  - { id: jeff, local: jeff, approver: true }',
        'infra:',
        `  knownHosts: ${sshd.knownHosts}`,
        '  hosts:',
        `    - { name: lab-1, address: 127.0.0.1, port: ${sshd.port}, user: ${sshd.user}, privateKey: ${sshd.clientKey}, policy: { risk: read } }`,
        '  jobs: { waitSeconds: 1, progressIntervalMs: 400 }',
      ].join('\n'),
    );
    app = await startPantheonProcess({ env: modelEnv(fake), dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 120_000 });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    if (app) assert.equal(await app.stop(), 0, app.stderr());
    await sshd?.stop();
    await fake?.close();
    await dir?.remove();
  });

  it('shows the log as it grows, and Cancel stops the job on the host', async () => {
    const command = 'i=0; while [ $i -lt 600 ]; do i=$((i+1)); echo "tick $i"; sleep 0.2; done';
    fake.enqueue({ toolCalls: [{ name: 'run_command', args: { host: 'lab-1', command, reason: 'a long count' } }] }, { text: 'It is counting in the background.' });
    await postMessage(app.url, 'counting', { text: '@hephaestus count slowly on lab-1', user: 'jeff' });
    await waitForMessage(app.url, 'counting', (m) => m.text === 'It is counting in the background.', 30_000);
    const jobs = ((await (await fetch(`${app.url}/api/jobs`, { headers: authFor(app.url) })).json()) as { jobs: JobJson[] }).jobs;
    const job = jobs.find((j) => j.status === 'running')!;
    assert.ok(job, `a running job: ${JSON.stringify(jobs)}`);

    const page = await signIn(await browser.newContext(), await loginLink(app, 'jeff'));
    await page.goto(`${app.url}/#/jobs`);
    await page.getByRole('link', { name: job.id }).click();
    const log = page.getByTestId('job-log');
    await log.getByText(/tick 3\b/).waitFor();
    const lastTick = async () => Number(/tick (\d+)\s*$/.exec(await text(log))?.[1] ?? 0);
    const seen = await lastTick();
    // Later lines arrive without a reload.
    const until = Date.now() + 15_000;
    while ((await lastTick()) < seen + 5 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    assert.ok((await lastTick()) >= seen + 5, `the log grew past tick ${seen} on screen`);
    assert.equal(await text(page.getByTestId('job-status')), 'running');
    await screenshot(page, '09-job-running');

    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('job-status').getByText('cancelled').waitFor({ timeout: 10_000 });
    await screenshot(page, '10-job-cancelled');
    const after = ((await (await fetch(`${app.url}/api/jobs/${job.id}`, { headers: authFor(app.url) })).json()) as { job: JobJson }).job;
    assert.equal(after.status, 'cancelled');
    assert.equal(after.cancelledBy, 'jeff', 'cancelled as the signed-in human');
    const deadline = Date.now() + 5000;
    while (runningInGroup(job.remotePid!).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(runningInGroup(job.remotePid!), [], 'the remote process group is gone');
    assert.equal(await page.getByRole('button', { name: 'Cancel' }).count(), 0, 'a finished job has no Cancel');
  });
});
