import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { chromiumMissing, launchChromium, loginLink, lowContrastTexts, measureFirstLoad, screenshot, signIn, text } from '../support/console-browser.js';
import { modelEnv, postMessage, runCli, startPantheonProcess, tempDir, waitForMessage, type RunningPantheon } from '../support/pantheon-process.js';

const CONFIG = ['humans:', '  - { id: jeff, local: jeff, approver: true }', '  - { id: carol, local: carol }', 'policy:', '  tools: { post_message: ask }'].join('\n');
const skip = chromiumMissing();
if (skip) console.log(`# skipped: ${skip}`);

/**
 * The web console in a real headless Chromium against the real `pantheon` process and the
 * scripted model: sign-in by login link, approvals (live, approver and not), a live conversation,
 * and the refusals without a session. Screenshots go to test-artifacts/console/.
 */
describe('web console in a browser', { skip }, () => {
  let fake: FakeLLM;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: RunningPantheon;
  let browser: Browser;
  let jeff: BrowserContext;
  let carol: BrowserContext;

  before(async () => {
    fake = await startFakeLLM();
    dir = await tempDir();
    await writeFile(join(dir.path, 'pantheon.yaml'), CONFIG);
    app = await startPantheonProcess({ env: modelEnv(fake), dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 120_000 });
    browser = await launchChromium();
    jeff = await browser.newContext();
    carol = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  });

  after(async () => {
    await browser?.close();
    if (app) assert.equal(await app.stop(), 0, app.stderr());
    await fake?.close();
    await dir?.remove();
  });

  it('without a session every page and /api call is refused', async () => {
    for (const path of ['/', '/approvals', '/index.html', '/assets/index.js']) {
      const res = await fetch(`${app.url}${path}`, { redirect: 'manual', headers: { accept: 'text/html' } });
      assert.equal(res.status, 401, `${path} answered ${res.status}`);
      assert.match(await res.text(), /login-link/, `${path} says how to sign in`);
      assert.equal((await fetch(`${app.url}${path}`, { redirect: 'manual' })).status, 401, `${path} without accept: text/html`);
    }
    for (const path of ['/api/me', '/api/personas', '/api/conversations', '/api/approvals', '/api/work', '/api/audit', '/api/settings', '/api/stats', '/api/memory']) {
      const res = await fetch(`${app.url}${path}`);
      assert.equal(res.status, 401, `${path} answered ${res.status}`);
    }
    const refused = await fetch(`${app.url}/api/conversations/local%3Ax/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"hi"}' });
    assert.equal(refused.status, 401);
    const page = await (await browser.newContext()).newPage();
    const res = await page.goto(`${app.url}/`);
    assert.equal(res?.status(), 401);
    await screenshot(page, '01-no-session');
    await page.context().close();
  });

  it('an approver signs in with a login link, sees a pending approval appear live, approves it, and sees the tool result arrive in the conversation', async () => {
    const link = await loginLink(app, 'jeff');
    const team = await signIn(jeff, link);
    await assert.doesNotReject(
      team
        .getByRole('row', { name: /athena/i })
        .first()
        .waitFor(),
    );
    assert.match(await text(team.locator('.me')), /jeff · approver/);
    await screenshot(team, '02-team');
    // The link was used up: opening it again does not sign anyone in.
    const token = new URL(link).searchParams.get('token') ?? '';
    const again = await fetch(`${app.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: app.url },
      body: new URLSearchParams({ token }).toString(),
      redirect: 'manual',
    });
    assert.equal(again.status, 401, 'a used link signs nobody in');

    const approvals = team;
    await approvals.goto(`${app.url}/#/approvals`);
    await approvals.getByText('Nothing waits for an approver.').waitFor();

    fake.enqueue(
      { text: 'I will tell the ops room.', toolCalls: [{ name: 'post_message', args: { conversation: 'ops-room', text: 'Deploy at 17:00 today.', reason: 'alice asked me to announce the deploy' } }] },
      { text: 'Posted the deploy time in ops-room.' },
    );
    await postMessage(app.url, 'announce', { text: '@athena tell ops-room we deploy at 17:00', user: 'alice' });

    // The request appears without a reload, with who asked, the tool, its exact arguments and the risk.
    const card = approvals.locator('[data-approval]').first();
    await card.waitFor({ timeout: 20_000 });
    const cardText = await text(card);
    assert.match(cardText, /athena wants to run post_message/);
    assert.match(cardText, /Deploy at 17:00 today\./);
    assert.match(cardText, /alice/);
    assert.match(cardText, /write|destructive|infra|read/);
    await screenshot(approvals, '03-approval-pending');

    // The same conversation open in a second tab follows it live.
    const conversation = await jeff.newPage();
    await conversation.goto(`${app.url}/#/conversations/${encodeURIComponent('local:announce')}`);
    await conversation.getByText('● live').waitFor();
    await conversation.getByText('@athena tell ops-room we deploy at 17:00').first().waitFor();

    await card.getByRole('button', { name: 'Approve' }).click();
    await approvals.getByText('Nothing waits for an approver.').waitFor();
    await approvals
      .getByText(/approved by jeff/)
      .first()
      .waitFor();

    const answer = conversation.locator('.transcript').getByText('Posted the deploy time in ops-room.');
    await answer.waitFor({ timeout: 20_000 });
    const tool = conversation.locator('details.tool', { hasText: 'post_message' });
    await tool.locator('summary').click();
    const toolText = await text(tool);
    assert.match(toolText, /Deploy at 17:00 today\./, 'the arguments are shown');
    assert.match(toolText, /ops-room/, 'the result is shown');
    assert.match(toolText, /\bok\b/);
    await screenshot(conversation, '04-approved-in-conversation');
    await conversation.close();
    await waitForMessage(app.url, 'ops-room', (m) => m.text === 'Deploy at 17:00 today.');
  });

  it('a non-approver signs in on a phone, sees the request without an Approve button, and the API refuses their approval', async () => {
    fake.enqueue({ toolCalls: [{ name: 'post_message', args: { conversation: 'ops-room', text: 'Rollback now!', reason: 'panic' } }] }, { text: 'Understood, not posting it.' });
    await postMessage(app.url, 'rollback', { text: '@athena tell ops-room to roll back', user: 'alice' });

    // This link comes from the operator's command, which asks the running server for it.
    const cli = await runCli(['login-link', 'carol', '--data-dir', join(dir.path, 'data')], { env: modelEnv(fake), cwd: dir.path });
    assert.equal(cli.code, 0, cli.stderr);
    const link = cli.stdout.trim();
    assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/auth\/login\?token=/);
    const page = await signIn(carol, link);
    assert.doesNotMatch(await text(page.locator('.me')), /approver/);
    await page.goto(`${app.url}/#/approvals`);
    const card = page.locator('[data-approval]').first();
    await card.waitFor({ timeout: 20_000 });
    assert.match(await text(card), /Rollback now!/);
    assert.equal(await page.getByRole('button', { name: 'Approve' }).count(), 0, 'no Approve button for a non-approver');
    assert.equal(await page.getByRole('button', { name: 'Deny' }).count(), 0);
    await page.getByText('Only approvers can decide this.').waitFor();
    await screenshot(page, '05-non-approver-phone');

    const id = (await card.getAttribute('data-approval'))!;
    const refused = await page.evaluate(async (approvalId) => {
      const me = (await (await fetch('/api/me')).json()) as { csrfToken: string };
      const res = await fetch(`/api/approvals/${approvalId}/approve`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrfToken }, body: '{}' });
      return { status: res.status, body: await res.text() };
    }, id);
    assert.equal(refused.status, 403, refused.body);
    assert.match(refused.body, /not_approver/);

    // The approver denies it from their phone-sized view, with a reason.
    const jeffPage = jeff.pages()[0]!;
    await jeffPage.setViewportSize({ width: 390, height: 844 });
    await jeffPage.goto(`${app.url}/#/approvals`);
    const pending = jeffPage.locator(`[data-approval="${id}"]`).first();
    await pending.getByRole('textbox', { name: new RegExp(`Reason for denying ${id}`) }).fill('not during the freeze');
    await screenshot(jeffPage, '06-approver-phone');
    await pending.getByRole('button', { name: 'Deny' }).click();
    await jeffPage
      .getByText(/denied by jeff.*not during the freeze/)
      .first()
      .waitFor();
    await waitForMessage(app.url, 'rollback', (m) => m.text === 'Understood, not posting it.');
    await jeffPage.setViewportSize({ width: 1280, height: 800 });
  });

  it('a conversation updates live when a persona answers a message posted from the console, and shows a handoff', async () => {
    fake.enqueue({ text: 'Good morning, Jeff.' });
    await postMessage(app.url, 'standup', { text: '@athena good morning', user: 'jeff' });
    await waitForMessage(app.url, 'standup', (m) => m.text === 'Good morning, Jeff.');

    const page = jeff.pages()[0]!;
    await page.goto(`${app.url}/#/conversations/${encodeURIComponent('local:standup')}`);
    await page.getByText('● live').waitFor();
    const transcript = page.locator('.transcript');
    await transcript.getByText('Good morning, Jeff.').waitFor();
    // The list has it, newest activity first.
    assert.match(await text(page.locator('.list li').first()), /standup/);

    fake.enqueue({ text: 'Nothing is in flight right now.', delayMs: 300 });
    await page.getByRole('textbox', { name: 'Message' }).fill("@athena what's in flight?");
    await page.getByRole('button', { name: 'Send' }).click();
    await transcript.getByText("@athena what's in flight?").waitFor();
    await transcript.getByText('Nothing is in flight right now.').waitFor({ timeout: 20_000 });
    const mine = page.locator('.transcript li.user', { hasText: "what's in flight" });
    assert.match(await text(mine), /jeff/, 'posted as the signed-in human');

    // A handoff shows in the timeline as it happens, then the receiver's answer.
    fake.enqueue(
      { text: 'Handing this to Apollo.', toolCalls: [{ name: 'handoff', args: { to: 'apollo', message: 'Add rate limiting to the public API.' } }] },
      { text: 'On it: rate limiting goes in as middleware.' },
    );
    await page.getByRole('textbox', { name: 'Message' }).fill('@athena get apollo on rate limiting');
    await page.getByRole('button', { name: 'Send' }).click();
    const handoff = transcript.locator('li.handoff');
    await handoff.waitFor({ timeout: 20_000 });
    assert.match(await text(handoff), /athena\s*→\s*apollo[\s\S]*W-\d+[\s\S]*Add rate limiting to the public API\./);
    await transcript.getByText('On it: rate limiting goes in as middleware.').waitFor({ timeout: 20_000 });
    await screenshot(page, '07-live-conversation');
  });

  it('the other views render what the API answers', async () => {
    const page = jeff.pages()[0]!;
    const check = async (view: string, text: RegExp | string) => {
      await page.goto(`${app.url}/#/${view}`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      await page.getByText(text).first().waitFor();
      await screenshot(page, `08-${view}`);
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        assert.deepEqual(await lowContrastTexts(page), [], `${view} (${scheme}): text below WCAG AA contrast`);
      }
      await page.emulateMedia({ colorScheme: 'light' });
    };
    await check('work', /W-\d+|No work in the ledger yet/);
    await check('audit', 'post_message');
    await check('memory', /Memories/);
    await check('settings', /Doctor/);
    assert.doesNotMatch(await text(page.locator('main')), /sk-test-openai-key/, 'secrets are masked');
    await check('team', /Tokens per persona per day/);
    await check('approvals', /Recent decisions/);
    await check('conversations', /standup/);
  });

  it('works from the keyboard: skip link, the views by Tab and Enter, the heading focused after each move', async () => {
    const page = jeff.pages()[0]!;
    await page.goto(`${app.url}/#/team`);
    await page.reload();
    await page.getByTestId('team').waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Skip to content');
    let focused = '';
    for (let i = 0; i < 12 && focused !== 'Approvals'; i++) {
      await page.keyboard.press('Tab');
      focused = (await page.evaluate('document.activeElement?.textContent')) ?? '';
    }
    assert.equal(focused, 'Approvals', 'the views are reachable by Tab');
    await page.keyboard.press('Enter');
    // Polled from here: waitForFunction with a string evaluates it with eval in the page, which the
    // console's Content-Security-Policy refuses once it has to poll (a slow machine).
    const titleFocused = "document.activeElement?.id === 'view-title' && document.activeElement.textContent === 'Approvals'";
    for (const end = Date.now() + 10_000; !(await page.evaluate(titleFocused)) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await page.evaluate(titleFocused), true, 'the heading of the view is focused after Enter');
    // A tool call opens and closes from the keyboard.
    await page.goto(`${app.url}/#/conversations/${encodeURIComponent('local:announce')}`);
    const summary = page.locator('details.tool summary').first();
    await summary.focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('details.tool').first().getAttribute('open'), '');
  });

  it('first load (cold cache, local): bytes transferred and time to the team view', async () => {
    const loads: Awaited<ReturnType<typeof measureFirstLoad>>[] = [];
    for (let i = 0; i < 3; i++) loads.push(await measureFirstLoad(browser, app, jeff));
    const median = <T>(xs: T[], key: (x: T) => number) => xs.map(key).sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ms = median(loads, (l) => l.msToTeam);
    const kb = median(loads, (l) => l.bytesToTeam) / 1024;
    const settled = median(loads, (l) => l.bytesSettled) / 1024;
    console.log(
      `# console first load (cold, local, median of ${loads.length}): team view rendered after ${ms} ms; ${kb.toFixed(1)} KB transferred until then, ${settled.toFixed(1)} KB once settled (charts loaded)`,
    );
    assert.ok(Number.isFinite(ms) && ms > 0, 'the team view set its mark');
  });

  it('signing out ends the session: the page and the API refuse it afterwards', async () => {
    const page = jeff.pages()[0]!;
    await page.goto(`${app.url}/#/team`);
    const otherTab = await jeff.newPage();
    await otherTab.goto(`${app.url}/#/approvals`);
    await otherTab.getByText('Recent decisions').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page
      .getByText(/login-link/)
      .first()
      .waitFor();
    const res = await page.request.get(`${app.url}/api/me`);
    assert.equal(res.status(), 401);
    // The other tab finds out at its next look at the server, and shows how to sign in again.
    await otherTab
      .getByText(/login-link/)
      .first()
      .waitFor({ timeout: 15_000 });
  });
});
